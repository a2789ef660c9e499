"""Odoo to Odoo through the RPC transport, with real servers on both sides."""

import threading
import time

import pytest

REMOTE_USER = r"""
user = env["res.users"].create({
    "name": "Sync remote", "login": "sync_remote",
    GROUP_IDS: [(6, 0, [env.ref("base.group_user").id, env.ref("base.group_partner_manager").id])],
})
result = env["res.users.apikeys"].with_user(user).sudo()._generate(None, "sync", False)
"""

SOURCE_SETUP = r"""
env["ir.config_parameter"].set_param("sync_base.own_code", "src")
system = env["sync.system"].create({
    "name": "Target", "code": "tgt", "transport": "rpc", "rpc_protocol": PROTOCOL, "rpc_host": "127.0.0.1",
    "rpc_port": PORT, "rpc_database": DATABASE, "rpc_login": "sync_remote", "rpc_password": KEY,
    "rpc_mode": "plain", "batch_size": 50, "retry_delays": "1", "max_attempts": 20,
})
Model = env["ir.model"]
library = env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
countries = env["sync.data.type"].create({
    "name": "Countries", "library_id": library.id, "model_id": Model._get("res.country").id, "trigger": "manual",
    "line_ids": [(0, 0, {"line_type": "field", "value": "code", "name": "code", "primary": True})],
})
categories = env["sync.data.type"].create({
    "name": "Categories", "library_id": library.id, "model_id": Model._get("res.partner.category").id,
    "system_ids": [(6, 0, system.ids)], "sync_deletion": True,
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True})],
})
categories.write({"line_ids": [(0, 0, {"line_type": "reference", "value": "parent_id", "name": "parent_id",
                                       "reference_id": categories.id})]})
partners = env["sync.data.type"].create({
    "name": "Partners", "library_id": library.id, "model_id": Model._get("res.partner").id,
    "system_ids": [(6, 0, system.ids)], "sync_deletion": True, "domain": "[('ref', 'like', 'E2E')]",
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                 (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True}),
                 (0, 0, {"line_type": "field", "value": "email", "name": "email"}),
                 (0, 0, {"line_type": "field", "value": "is_company", "name": "is_company"}),
                 (0, 0, {"line_type": "reference", "value": "country_id", "name": "country_id",
                         "reference_id": countries.id})],
})
partners.write({"line_ids": [
    (0, 0, {"line_type": "reference", "value": "parent_id", "name": "parent_id", "reference_id": partners.id}),
    (0, 0, {"line_type": "reference", "value": "category_id", "name": "category_id",
            "reference_id": categories.id}),
]})
for data_type in countries | categories | partners:
    data_type.action_generate_schema()
parent_cat = env["res.partner.category"].create({"name": "E2E Parent"})
child_cat = env["res.partner.category"].create({"name": "E2E Child", "parent_id": parent_cat.id})
be = env.ref("base.be")
# children created before their parents: the batch order must not matter
acme = env["res.partner"].create({"name": "Acme", "ref": "E2E-ACME", "is_company": True, "country_id": be.id,
                                  "category_id": [(6, 0, child_cat.ids)]})
ann = env["res.partner"].create({"name": "Ann", "ref": "E2E-ANN", "email": "ann@acme.example",
                                 "parent_id": acme.id})
"""

PUMP = r"""
import time
for _round in range(ROUNDS):
    env["sync.message"]._cron_create_queue()
    env["sync.message"]._cron_send()
    env.cr.commit()
    busy = env["sync.message"].search_count([("state", "not in", ("done", "failed", "cancelled"))])
    if not busy:
        break
    env.cr.execute("UPDATE sync_message SET next_attempt_at = now() at time zone 'utc' "
                   "WHERE state IN ('retry', 'waiting')")
    env.cr.commit()
    time.sleep(0.2)
result = {m.record_name: [m.state, m.last_error or ""] for m in env["sync.message"].search([])}
"""

TARGET_STATE = r"""
partners = env["res.partner"].with_context(active_test=False).search([("ref", "like", "E2E")], order="ref")
categories = env["res.partner.category"].search([("name", "like", "E2E")], order="name")
env.cr.execute("SELECT count(*) FROM ir_model_data WHERE module = 'sync_src'")
xmlids = env.cr.fetchone()[0]
result = {
    "partners": [[p.ref, p.name, p.email or "", p.is_company, p.country_id.code or "", p.parent_id.ref or "",
                  sorted(p.category_id.mapped("name")), p.active] for p in partners],
    "categories": [[c.name, c.parent_id.name or ""] for c in categories],
    "xmlids": xmlids,
    "write_dates": sorted(str(d) for d in partners.mapped("write_date") + categories.mapped("write_date")),
}
"""


def _pump(source, rounds=30):
    return source.shell(f"ROUNDS = {rounds}\n" + PUMP, timeout=900)


@pytest.mark.parametrize("protocol", ["jsonrpc", "xmlrpc"])
def test_plain_mode_push(make_database, make_plain_database, start_server, protocol):
    target = make_plain_database("plain")
    key = target.shell(REMOTE_USER)
    target_server = start_server(target)
    source = make_database("rpcsrc")
    source.shell(f"PROTOCOL = {protocol!r}\nPORT = {target_server.port}\nDATABASE = {target.dbname!r}\n"
                 f"KEY = {key!r}\n" + SOURCE_SETUP)
    states = _pump(source)
    assert {state for state, _error in states.values()} == {"done"}, states
    state = target.shell(TARGET_STATE)
    assert state["categories"] == [["E2E Child", "E2E Parent"], ["E2E Parent", ""]]
    assert state["partners"] == [
        ["E2E-ACME", "Acme", "", True, "BE", "", ["E2E Child"], True],
        # Odoo copies a company's address to its contacts, on both sides
        ["E2E-ANN", "Ann", "ann@acme.example", False, "BE", "E2E-ACME", [], True],
    ]
    # changes and a deletion arrive; running again changes nothing and creates nothing
    source.shell(
        "ann = env['res.partner'].search([('ref', '=', 'E2E-ANN')])\n"
        "ann.write({'email': 'ann@new.example', 'name': 'Ann B'})\n"
        "env['res.partner.category'].search([('name', '=', 'E2E Child')]).name = 'E2E Kid'\n")
    states = _pump(source)
    assert {state for state, _error in states.values()} == {"done"}, states
    changed = target.shell(TARGET_STATE)
    assert changed["partners"][1][1:3] == ["Ann B", "ann@new.example"]
    assert changed["partners"][0][6] == ["E2E Kid"]
    assert changed["categories"] == [["E2E Kid", "E2E Parent"], ["E2E Parent", ""]]
    _pump(source)
    assert target.shell(TARGET_STATE) == changed, "running the schedulers again changed something"
    # everything sent again: the same records, written again, none created
    source.shell("env['sync.data.type'].search([('name', '=', 'Partners')]).action_queue_all()\n")
    _pump(source)
    again = target.shell(TARGET_STATE)
    assert {k: v for k, v in again.items() if k != "write_dates"} == {
        k: v for k, v in changed.items() if k != "write_dates"}
    source.shell("env['res.partner'].search([('ref', '=', 'E2E-ANN')]).unlink()\n")
    states = _pump(source)
    assert {state for state, _error in states.values()} == {"done"}, states
    assert [p[0] for p in target.shell(TARGET_STATE)["partners"]] == ["E2E-ACME"]


def test_target_stopped_in_the_middle_then_everything_arrives_once(make_database, make_plain_database,
                                                                     start_server):
    target = make_plain_database("down")
    key = target.shell(REMOTE_USER)
    target_server = start_server(target)
    source = make_database("rpcdown")
    source.shell(f"PROTOCOL = 'jsonrpc'\nPORT = {target_server.port}\nDATABASE = {target.dbname!r}\n"
                 f"KEY = {key!r}\n" + SOURCE_SETUP +
                 "env['sync.system'].search([]).batch_size = 10\n"
                 "env['res.partner'].create([{'name': f'Bulk {i}', 'ref': f'E2E-BULK-{i:03d}'} "
                 "for i in range(300)])\n")
    total = 304
    pump = threading.Thread(target=lambda: _pump(source, rounds=3))
    pump.start()
    try:
        # stopped while batches are on their way: some done, most not
        deadline = time.monotonic() + 300
        done = 0
        while time.monotonic() < deadline:
            done = int(source.cluster.psql("SELECT count(*) FROM sync_message WHERE state = 'done'",
                                           dbname=source.dbname) or 0)
            if done >= 20:
                break
            time.sleep(0.05)
        target_server.kill()
    finally:
        pump.join(900)
    assert 20 <= done < total
    states = source.shell("result = {m.record_name: [m.state, m.last_error or ''] "
                          "for m in env['sync.message'].search([])}\n")
    assert any("cannot reach" in error for _state, error in states.values()), states
    assert sum(state == "done" for state, _error in states.values()) < total
    target_server.start()
    states = _pump(source)
    assert {state for state, _error in states.values()} == {"done"}, states
    state = target.shell(TARGET_STATE)
    refs = [p[0] for p in state["partners"]]
    assert len(refs) == len(set(refs)) == 302
    assert state["xmlids"] == total


TARGET_SUITE = r"""
env["ir.config_parameter"].set_param("sync_base.own_code", "tgt")
user = env["res.users"].create({
    "name": "Source connector", "login": "source_connector",
    GROUP_IDS: [(6, 0, [env.ref("base.group_user").id, env.ref("base.group_partner_manager").id])],
})
source = env["sync.system"].create({"name": "Source", "code": "src", "transport": "test", "user_id": user.id})
library = env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
schema = env["sync.schema"].create({
    "library_id": library.id, "name": "Partners as tags", "slug": "res_partner",
    "schema": '{"type": "object", "properties": {"name": {"type": "string"}, "ref": {"type": ["string", "null"]}},'
              ' "required": ["name"]}',
})
env["sync.data.type"].create({
    "name": "Tags from partners", "library_id": library.id, "schema_id": schema.id,
    "model_id": env["ir.model"]._get("res.partner.category").id, "trigger": "manual",
    "system_ids": [(6, 0, source.ids)], "accept_inbound": True,
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True})],
})
result = source._generate_inbound_token()
"""

SOURCE_SUITE = r"""
env["ir.config_parameter"].set_param("sync_base.own_code", "src")
system = env["sync.system"].create({
    "name": "Target", "code": "tgt", "transport": "rpc", "rpc_protocol": "jsonrpc", "rpc_host": "127.0.0.1",
    "rpc_port": PORT, "rpc_database": DATABASE, "rpc_login": "admin", "rpc_password": "admin",
    "rpc_mode": "suite", "rpc_remote_token": TOKEN,
})
library = env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
partners = env["sync.data.type"].create({
    "name": "Partners", "library_id": library.id, "model_id": env["ir.model"]._get("res.partner").id,
    "system_ids": [(6, 0, system.ids)], "domain": "[('ref', 'like', 'SUITE')]",
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                 (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True})],
})
partners.action_generate_schema()
env["res.partner"].create([{"name": f"Suite tag {i}", "ref": f"SUITE-{i}"} for i in range(3)])
action = system.action_test_connection()
result = [action["params"]["type"], action["params"]["message"]]
"""


def test_suite_mode_applies_the_remote_mappings(make_database, start_server):
    target = make_database("suitetgt")
    token = target.shell(TARGET_SUITE)
    target_server = start_server(target)
    source = make_database("suitesrc")
    ping = source.shell(f"PORT = {target_server.port}\nDATABASE = {target.dbname!r}\nTOKEN = {token!r}\n"
                        + SOURCE_SUITE)
    assert ping[0] == "success", ping
    assert "remote suite accepts our token" in ping[1]
    states = _pump(source)
    assert {state for state, _error in states.values()} == {"done"}, states
    tags = "result = sorted(env['res.partner.category'].search([('name', 'like', 'Suite tag')]).mapped('name'))\n"
    assert target.shell(tags) == ["Suite tag 0", "Suite tag 1", "Suite tag 2"]
    bindings = source.shell("result = sorted(set(env['sync.binding'].search([]).mapped('remote_model')))\n")
    assert bindings == ["res.partner.category"]
    # sent again: answered from the target's incoming messages or matched, never duplicated
    source.shell("env['sync.data.type'].search([('name', '=', 'Partners')]).action_queue_all()\n")
    _pump(source)
    assert target.shell(tags) == ["Suite tag 0", "Suite tag 1", "Suite tag 2"]


REMOTE_RECORDS = r"""
be, fr = env.ref("base.be"), env.ref("base.fr")
vip = env["res.partner.category"].create({"name": "PULL VIP"})
# the contact first, its company after, in one transaction: one write date, the company pulled after
ann = env["res.partner"].create({"name": "Ann", "ref": "PULL-ANN", "email": "ann@pull.example"})
acme = env["res.partner"].create({"name": "Acme", "ref": "PULL-ACME", "is_company": True, "country_id": be.id,
                                  "category_id": [(6, 0, vip.ids)]})
ann.parent_id = acme
env["res.partner"].create({"name": "Bob", "ref": "PULL-BOB", "country_id": fr.id})
env["res.partner"].create({"name": "Not pulled", "ref": "OTHER-1"})
"""

LOCAL_PULL = r"""
env["ir.config_parameter"].set_param("sync_base.own_code", "here")
user = env["res.users"].create({
    "name": "Pulled by", "login": "puller",
    GROUP_IDS: [(6, 0, [env.ref("base.group_user").id, env.ref("base.group_partner_manager").id])],
})
system = env["sync.system"].create({
    "name": "Remote", "code": "remote", "transport": "rpc", "rpc_protocol": "jsonrpc", "rpc_host": "127.0.0.1",
    "rpc_port": PORT, "rpc_database": DATABASE, "rpc_login": "sync_remote", "rpc_password": KEY,
    "rpc_mode": "plain", "batch_size": 3, "user_id": user.id,
})
Model = env["ir.model"]
library = env["sync.library"].create({"name": "Pull", "slug": "pull"})
countries = env["sync.data.type"].create({
    "name": "Countries", "library_id": library.id, "model_id": Model._get("res.country").id, "trigger": "manual",
    "line_ids": [(0, 0, {"line_type": "field", "value": "code", "name": "code", "primary": True})],
})
categories = env["sync.data.type"].create({
    "name": "Categories", "library_id": library.id, "model_id": Model._get("res.partner.category").id,
    "system_ids": [(6, 0, system.ids)], "rpc_pull": True, "rpc_pull_domain": "[('name', 'like', 'PULL')]",
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True})],
})
partners = env["sync.data.type"].create({
    "name": "Partners", "library_id": library.id, "model_id": Model._get("res.partner").id,
    "system_ids": [(6, 0, system.ids)], "rpc_pull": True, "rpc_pull_domain": "[('ref', 'like', 'PULL')]",
    "domain": "[('ref', 'like', 'PULL')]",
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                 (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True}),
                 (0, 0, {"line_type": "field", "value": "email", "name": "email"}),
                 (0, 0, {"line_type": "field", "value": "is_company", "name": "is_company"}),
                 (0, 0, {"line_type": "reference", "value": "country_id", "name": "country_id",
                         "reference_id": countries.id}),
                 (0, 0, {"line_type": "reference", "value": "category_id", "name": "category_id",
                         "reference_id": categories.id})],
})
partners.write({"line_ids": [(0, 0, {"line_type": "reference", "value": "parent_id", "name": "parent_id",
                                     "reference_id": partners.id})]})
for data_type in countries | categories | partners:
    data_type.action_generate_schema()
"""

PULL = r"""
import time
applied = 0
for _round in range(ROUNDS):
    applied += env["sync.rpc.watermark"]._cron_pull()
    env.cr.commit()
    marks = env["sync.rpc.watermark"].search([])
    if all(m.caught_up and not m.retry_ids for m in marks):
        break
env["sync.message"]._cron_create_queue()
env.cr.commit()
partners = env["res.partner"].with_context(active_test=False).search([("ref", "like", "PULL")], order="ref")
result = {
    "applied": applied,
    "errors": [m.last_error for m in marks if m.last_error],
    "partners": [[p.ref, p.name, p.email or "", p.is_company, p.country_id.code or "", p.parent_id.ref or "",
                  sorted(p.category_id.mapped("name"))] for p in partners],
    "write_dates": sorted(str(d) for d in partners.mapped("write_date")),
    "messages": env["sync.message"].search_count([]),
    "bindings": env["sync.binding"].search_count([]),
}
"""


def _pull(local, rounds=40):
    return local.shell(f"ROUNDS = {rounds}\n" + PULL, timeout=900)


def test_pull_from_a_plain_remote(make_database, make_plain_database, start_server):
    remote = make_plain_database("pullsrc")
    key = remote.shell(REMOTE_USER)
    remote.shell(REMOTE_RECORDS)
    remote_server = start_server(remote)
    local = make_database("pulldst")
    local.shell(f"PORT = {remote_server.port}\nDATABASE = {remote.dbname!r}\nKEY = {key!r}\n" + LOCAL_PULL)
    first = _pull(local)
    assert first["errors"] == [], first
    assert first["partners"] == [
        ["PULL-ACME", "Acme", "", True, "BE", "", ["PULL VIP"]],
        ["PULL-ANN", "Ann", "ann@pull.example", False, "BE", "PULL-ACME", []],
        ["PULL-BOB", "Bob", "", False, "FR", "", []],
    ]
    # nothing pulled goes back to where it came from
    assert first["messages"] == 0
    assert first["applied"] == 4 and first["bindings"] == 4
    # a second run reads the overlap window again and changes nothing
    again = _pull(local)
    assert again["applied"] == 0 and again["partners"] == first["partners"]
    assert again["write_dates"] == first["write_dates"]
    # changes, a deletion and many records in one second (one transaction) on the remote
    remote.shell(
        "env['res.partner'].search([('ref', '=', 'PULL-BOB')]).write({'email': 'bob@pull.example', 'name': 'Bob B'})\n"
        "env['res.partner'].search([('ref', '=', 'PULL-ANN')]).unlink()\n"
        "env['res.partner'].create([{'name': f'Bulk {i}', 'ref': f'PULL-BULK-{i:02d}'} for i in range(20)])\n")
    changed = _pull(local)
    assert changed["errors"] == [], changed
    refs = [p[0] for p in changed["partners"]]
    assert refs == ["PULL-ACME", "PULL-BOB", *[f"PULL-BULK-{i:02d}" for i in range(20)]]
    assert changed["partners"][1][1:3] == ["Bob B", "bob@pull.example"]
    assert changed["applied"] == 21 and changed["messages"] == 0
    final = _pull(local)
    assert final["applied"] == 0 and final["write_dates"] == changed["write_dates"]


SOURCE_REMOTE_MODEL = r"""
env["ir.config_parameter"].set_param("sync_base.own_code", "src")
system = env["sync.system"].create({
    "name": "Target", "code": "tgt", "transport": "rpc", "rpc_protocol": "xmlrpc", "rpc_host": "127.0.0.1",
    "rpc_port": PORT, "rpc_database": DATABASE, "rpc_login": "sync_remote", "rpc_password": KEY,
    "rpc_mode": "plain", "retry_delays": "1", "max_attempts": 20,
})
Model = env["ir.model"]
library = env["sync.library"].create({"name": "Remote models", "slug": "remote_models"})
countries = env["sync.data.type"].create({
    "name": "Countries", "library_id": library.id, "model_id": Model._get("res.country").id, "trigger": "manual",
    "line_ids": [(0, 0, {"line_type": "field", "value": "code", "name": "code", "primary": True})],
})
# property names are the remote model's field names
titles = env["sync.data.type"].create({
    "name": "Tags as titles", "library_id": library.id, "model_id": Model._get("res.partner.category").id,
    "remote_model": "res.partner.title", "system_ids": [(6, 0, system.ids)], "domain": "[('name', 'like', 'RM')]",
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True}),
                 (0, 0, {"line_type": "field", "value": "name", "name": "shortcut"})],
})
banks = env["sync.data.type"].create({
    "name": "Partners as banks", "library_id": library.id, "model_id": Model._get("res.partner").id,
    "remote_model": "res.bank", "system_ids": [(6, 0, system.ids)], "domain": "[('ref', 'like', 'RMBANK')]",
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                 (0, 0, {"line_type": "field", "value": "ref", "name": "bic", "primary": True}),
                 (0, 0, {"line_type": "field", "value": "email", "name": "email"}),
                 (0, 0, {"line_type": "reference", "value": "country_id", "name": "country",
                         "reference_id": countries.id})],
})
for data_type in countries | titles | banks:
    data_type.action_generate_schema()
env["res.partner.category"].create([{"name": "RM Doctor"}, {"name": "RM Professor"}])
env["res.partner"].create([
    {"name": "Bank One", "ref": "RMBANK1", "email": "one@bank.example", "country_id": env.ref("base.be").id},
    {"name": "Bank Two", "ref": "RMBANK2", "country_id": env.ref("base.nl").id},
])
"""

REMOTE_MODEL_STATE = r"""
result = {
    "titles": sorted([t.name, t.shortcut] for t in env["res.partner.title"].search([("name", "like", "RM")])),
    "banks": sorted([b.bic, b.name, b.email or "", b.country.code]
                    for b in env["res.bank"].search([("bic", "like", "RMBANK")])),
}
"""


def test_plain_mode_with_a_remote_model(make_database, make_plain_database, start_server):
    target = make_plain_database("rmodel")
    key = target.shell(REMOTE_USER)
    target_server = start_server(target)
    source = make_database("rmsrc")
    source.shell(f"PORT = {target_server.port}\nDATABASE = {target.dbname!r}\nKEY = {key!r}\n" + SOURCE_REMOTE_MODEL)
    states = _pump(source)
    assert {state for state, _error in states.values()} == {"done"}, states
    expected = {
        "titles": [["RM Doctor", "RM Doctor"], ["RM Professor", "RM Professor"]],
        "banks": [["RMBANK1", "Bank One", "one@bank.example", "BE"], ["RMBANK2", "Bank Two", "", "NL"]],
    }
    assert target.shell(REMOTE_MODEL_STATE) == expected
    bindings = source.shell("result = sorted(set(env['sync.binding'].search([]).mapped('remote_model')))\n")
    assert bindings == ["res.bank", "res.partner.title"]
    source.shell("env['res.partner'].search([('ref', '=', 'RMBANK2')]).email = 'two@bank.example'\n"
                 "for data_type in env['sync.data.type'].search([('remote_model', '!=', False)]):\n"
                 "    data_type.action_queue_all()\n")
    states = _pump(source)
    assert {state for state, _error in states.values()} == {"done"}, states
    expected["banks"][1][2] = "two@bank.example"
    assert target.shell(REMOTE_MODEL_STATE) == expected
