"""Reconciliation end to end: drift made by hand on a real target is found, repaired, and found no more."""

import pytest

from .test_rpc import REMOTE_USER, _pump

PARTNER_LINES = """[
    (0, 0, {"line_type": "field", "value": "name", "name": "name"}),
    (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True}),
    (0, 0, {"line_type": "field", "value": "email", "name": "email"}),
    (0, 0, {"line_type": "field", "value": "is_company", "name": "is_company"}),
    (0, 0, {"line_type": "field", "value": "active", "name": "active"}),
]"""

SOURCE = r"""
env["ir.config_parameter"].set_param("sync_base.own_code", "src")
values = {
    "name": "Target", "code": "tgt", "transport": "rpc", "rpc_protocol": "jsonrpc", "rpc_host": "127.0.0.1",
    "rpc_port": PORT, "rpc_database": DATABASE, "rpc_mode": MODE, "batch_size": 100, "retry_delays": "1",
}
if MODE == "plain":
    values.update(rpc_login="sync_remote", rpc_password=KEY)
else:
    values.update(rpc_login="admin", rpc_password="admin", rpc_remote_token=KEY)
system = env["sync.system"].create(values)
library = env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
partners = env["sync.data.type"].create({
    "name": "Partners", "library_id": library.id, "model_id": env["ir.model"]._get("res.partner").id,
    "system_ids": [(6, 0, system.ids)], "sync_deletion": True, "domain": "[('ref', 'like', 'CMP')]",
    "line_ids": LINES,
})
partners.action_generate_schema()
env["res.partner"].create([{"name": f"Partner {i}", "ref": f"CMP-{i:02d}", "email": f"p{i}@example.com"}
                           for i in range(20)])
"""

TARGET_SUITE = r"""
env["ir.config_parameter"].set_param("sync_base.own_code", "tgt")
user = env["res.users"].create({
    "name": "Source connector", "login": "source_connector",
    GROUP_IDS: [(6, 0, [env.ref("base.group_user").id, env.ref("base.group_partner_manager").id])],
})
source = env["sync.system"].create({"name": "Source", "code": "src", "transport": "test", "user_id": user.id})
library = env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
partners = env["sync.data.type"].create({
    "name": "Partners from the source", "library_id": library.id,
    "model_id": env["ir.model"]._get("res.partner").id, "trigger": "manual",
    "system_ids": [(6, 0, source.ids)], "accept_inbound": True, "line_ids": LINES,
})
partners.action_generate_schema()
result = source._generate_inbound_token()
"""

COMPARE = r"""
import time
data_type = env["sync.data.type"].search([("name", "=", "Partners")])
action = data_type.action_compare()
run = env["sync.compare.run"].browse(action["res_id"])
env.cr.commit()
deadline = time.monotonic() + 600
while run.state in ("queued", "running") and time.monotonic() < deadline:
    env["sync.compare.run"]._cron_compare()
    env.cr.commit()
    run.invalidate_recordset()
result = {
    "state": run.state, "error": run.error or "", "note": run.note or "", "total": run.total_count,
    "in_step": run.in_step_count, "drift": run.drift_count,
    "lines": sorted([line.outcome, line.record_name or "", line.res_id, line.remote_ref or "",
                     sorted([d["property"], d["here"], d["there"]] for d in (line.diff or []))]
                    for line in run.line_ids),
    "run": run.id,
}
"""

DRIFT_SOURCE = r"""
Partner = env["res.partner"]
p = {ref: Partner.search([("ref", "=", ref)]) for ref in ("CMP-04",)}
# a change whose message is cancelled: it never leaves
p["CMP-04"].name = "Partner 4 renamed"
env["sync.message"]._cron_create_queue()
message = env["sync.message"].search([("res_id", "=", p["CMP-04"].id), ("state", "in", ("pending", "waiting"))])
message.action_cancel()
result = {"cancelled": message.state, "absent_id": max(Partner.with_context(active_test=False).search([]).ids) + 1000}
"""


def _drift_target(target, mode, absent_id):
    """On the target, by hand: a record changed (ORM), one deleted (SQL), one added under the source's identifier,
    one archived."""
    if mode == "plain":
        added = (f"added = env['res.partner'].create({{'name': 'Added there', 'ref': 'CMP-X'}})\n"
                 f"env['ir.model.data'].create({{'module': 'sync_src', 'name': 'res_partner_{absent_id}', "
                 f"'model': 'res.partner', 'res_id': added.id}})\n")
    else:
        added = (f"added = env['res.partner'].create({{'name': 'Added there', 'ref': 'CMP-X'}})\n"
                 f"env['sync.binding'].create({{'system_id': env['sync.system'].search([('code', '=', 'src')]).id, "
                 f"'model': 'res.partner', 'res_id': added.id, 'remote_model': 'res.partner', "
                 f"'remote_ref': 'src/res.partner/{absent_id}'}})\n")
    return target.shell(
        "Partner = env['res.partner'].with_context(active_test=False)\n"
        "Partner.search([('ref', '=', 'CMP-01')]).email = 'changed@there.example'\n"
        "gone = Partner.search([('ref', '=', 'CMP-02')])\n"
        "env.cr.execute('DELETE FROM res_partner WHERE id = %s', [gone.id])\n"
        "Partner.search([('ref', '=', 'CMP-03')]).active = False\n"
        + added + "result = added.id\n")


@pytest.mark.parametrize("mode", ["plain", "suite"])
def test_compare_finds_the_drift_made_by_hand_and_repair_brings_both_sides_in_step(
        make_database, make_plain_database, start_server, mode):
    if mode == "plain":
        target = make_plain_database("cmptgt")
        key = target.shell(REMOTE_USER)
    else:
        target = make_database("cmptgt")
        key = target.shell(f"LINES = {PARTNER_LINES}\n" + TARGET_SUITE)
    target_server = start_server(target)
    source = make_database("cmpsrc")
    source.shell(f"PORT = {target_server.port}\nDATABASE = {target.dbname!r}\nKEY = {key!r}\nMODE = {mode!r}\n"
                 f"LINES = {PARTNER_LINES}\n" + SOURCE)
    states = _pump(source)
    assert {state for state, _error in states.values()} == {"done"}, states

    # in step: nothing to say
    first = source.shell(COMPARE)
    assert first["state"] == "done", first
    assert (first["total"], first["in_step"], first["drift"], first["lines"]) == (20, 20, 0, []), first

    drift = source.shell(DRIFT_SOURCE)
    assert drift["cancelled"] == "cancelled"
    added_id = _drift_target(target, mode, drift["absent_id"])

    found = source.shell(COMPARE)
    assert found["state"] == "done", found
    by_outcome = {}
    for outcome, name, res_id, remote_ref, diff in found["lines"]:
        by_outcome.setdefault(outcome, []).append((name, diff, res_id, remote_ref))
    assert sorted(by_outcome) == ["differs", "missing", "not_sent", "only_there"], found
    differs = sorted(by_outcome["differs"])
    assert [name for name, *_rest in differs] == ["Partner 1", "Partner 3"], found
    assert differs[0][1] == [["email", "p1@example.com", "changed@there.example"]], found
    assert differs[1][1] == [["active", True, False]], found
    assert [name for name, *_rest in by_outcome["missing"]] == ["Partner 2"], found
    assert [name for name, *_rest in by_outcome["not_sent"]] == ["Partner 4 renamed"], found
    only_there = by_outcome["only_there"]
    assert [(res_id, remote_ref) for _name, _diff, res_id, remote_ref in only_there] == [
        (drift["absent_id"], str(added_id))], found
    assert found["drift"] == 5 and found["in_step"] == 16, found

    repaired = source.shell(f"run = env['sync.compare.run'].browse({found['run']})\n"
                            "action = run.action_repair()\nresult = action['params']['message']\n")
    assert "4 record(s) queued again" in repaired and "1 deletion(s) queued" in repaired, repaired
    states = _pump(source)
    assert {state for state, _error in states.values()} <= {"done", "cancelled"}, states

    again = source.shell(COMPARE)
    assert again["state"] == "done", again
    assert (again["drift"], again["lines"], again["in_step"]) == (0, [], 20), again
    there = target.shell("Partner = env['res.partner'].with_context(active_test=False)\n"
                         "result = {'added': Partner.search_count([('ref', '=', 'CMP-X')]),\n"
                         "          'cmp': sorted([p.ref, p.name, p.email, p.active] for p in "
                         "Partner.search([('ref', 'like', 'CMP-')]))}\n")
    assert there["added"] == 0
    assert len(there["cmp"]) == 20
    assert ["CMP-04", "Partner 4 renamed", "p4@example.com", True] in there["cmp"]
    assert ["CMP-01", "Partner 1", "p1@example.com", True] in there["cmp"]
    assert ["CMP-03", "Partner 3", "p3@example.com", True] in there["cmp"]
