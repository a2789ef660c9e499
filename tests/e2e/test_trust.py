"""Acceptance run of issue 24: what a source commits reaches a plain Odoo target once, as the right models.

Tags and partners share ONE schema (``{"type": "object"}``), so their data
types share one message type.  Everything is sent by the source server's own
cron workers (the suite wakes them when a change commits), over JSON-RPC to
a plain Odoo (nothing of the suite) served by its own process; the target is
read over JSON-RPC as its administrator.
"""

import time

from tests.e2e.test_rpc import REMOTE_USER
from tests.harness.odoo_server import log_problem_blocks

ARRIVAL_SECONDS = 60

SOURCE_SETUP = r"""
env["ir.config_parameter"].set_param("sync_base.own_code", "src")
system = env["sync.system"].create({
    "name": "Plain target", "code": "tgt", "transport": "rpc", "rpc_protocol": "jsonrpc", "rpc_host": "127.0.0.1",
    "rpc_port": PORT, "rpc_database": DATABASE, "rpc_login": "sync_remote", "rpc_password": KEY,
    "rpc_mode": "plain", "batch_size": 50, "retry_delays": "1", "max_attempts": 20,
})
Model = env["ir.model"]
library = env["sync.library"].create({"name": "Trust", "slug": "trust"})
# one generic schema for tags and partners: one message type for two data types
shared = env["sync.schema"].create({"library_id": library.id, "name": "Any record", "slug": "record",
                                    "schema": '{"type": "object"}'})
countries = env["sync.data.type"].create({
    "name": "Countries", "library_id": library.id, "model_id": Model._get("res.country").id, "trigger": "manual",
    "line_ids": [(0, 0, {"line_type": "field", "value": "code", "name": "code", "primary": True})],
})
countries.action_generate_schema()
tags = env["sync.data.type"].create({
    "name": "Tags", "library_id": library.id, "model_id": Model._get("res.partner.category").id,
    "schema_id": shared.id, "system_ids": [(6, 0, system.ids)], "sync_deletion": True, "delete_mode": "unlink",
    "domain": "[('name', 'like', 'TRUST')]",
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True})],
})
tags.write({"line_ids": [(0, 0, {"line_type": "reference", "value": "parent_id", "name": "parent_id",
                                 "reference_id": tags.id})]})
partners = env["sync.data.type"].create({
    "name": "Partners", "library_id": library.id, "model_id": Model._get("res.partner").id,
    "schema_id": shared.id, "system_ids": [(6, 0, system.ids)], "sync_deletion": True, "delete_mode": "archive",
    "domain": "[('ref', 'like', 'TRUST')]",
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                 (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True}),
                 (0, 0, {"line_type": "field", "value": "is_company", "name": "is_company"}),
                 (0, 0, {"line_type": "reference", "value": "country_id", "name": "country_id",
                         "reference_id": countries.id})],
})
partners.write({"line_ids": [
    (0, 0, {"line_type": "reference", "value": "parent_id", "name": "parent_id", "reference_id": partners.id}),
    (0, 0, {"line_type": "reference", "value": "category_id", "name": "category_id", "reference_id": tags.id}),
]})
result = [tags.message_type, partners.message_type, tags.schema_id.id == partners.schema_id.id == shared.id]
"""

# one transaction; children before their parents (a child tag, contacts created before their companies)
RECORDS = r"""
be, fr, nl, de = (env.ref(f"base.{code}") for code in ("be", "fr", "nl", "de"))
Tag, Partner = env["res.partner.category"], env["res.partner"]
gold = Tag.create({"name": "TRUST Gold"})
customer = Tag.create({"name": "TRUST Customer"})
gold.parent_id = customer
vip = Tag.create({"name": "TRUST VIP", "parent_id": gold.id})
lead = Tag.create({"name": "TRUST Lead"})
ann = Partner.create({"name": "Ann", "ref": "TRUST-ANN", "category_id": [(6, 0, vip.ids)]})
bob = Partner.create({"name": "Bob", "ref": "TRUST-BOB", "country_id": fr.id, "category_id": [(6, 0, lead.ids)]})
carl = Partner.create({"name": "Carl", "ref": "TRUST-CARL", "country_id": de.id,
                       "category_id": [(6, 0, (gold | vip).ids)]})
acme = Partner.create({"name": "Acme", "ref": "TRUST-ACME", "is_company": True, "country_id": be.id,
                       "category_id": [(6, 0, customer.ids)]})
globex = Partner.create({"name": "Globex", "ref": "TRUST-GLOBEX", "is_company": True, "country_id": nl.id,
                         "category_id": [(6, 0, (gold | lead).ids)]})
initech = Partner.create({"name": "Initech", "ref": "TRUST-INITECH", "is_company": True, "country_id": fr.id})
ann.parent_id = acme
bob.parent_id = globex
Partner.create({"name": "Dave", "ref": "TRUST-DAVE", "parent_id": acme.id, "category_id": [(6, 0, (vip | lead).ids)]})
Partner.create({"name": "Erin", "ref": "TRUST-ERIN", "parent_id": initech.id})
"""

CHANGES = r"""
Tag, Partner = env["res.partner.category"], env["res.partner"]
Tag.search([("name", "=", "TRUST Gold")]).name = "TRUST Platinum"
Partner.search([("ref", "=", "TRUST-BOB")]).parent_id = Partner.search([("ref", "=", "TRUST-ACME")])
Partner.search([("ref", "=", "TRUST-CARL")]).country_id = env.ref("base.nl")
# a company's country: Odoo copies it to the company's contacts, on both sides
Partner.search([("ref", "=", "TRUST-INITECH")]).country_id = env.ref("base.de")
Partner.search([("ref", "=", "TRUST-DAVE")]).unlink()
Tag.search([("name", "=", "TRUST Lead")]).unlink()
"""

# the same picture of the source, as TARGET_STATE builds it of the target
SOURCE_STATE = r"""
partners = env["res.partner"].with_context(active_test=False).search([("ref", "like", "TRUST")])
tags = env["res.partner.category"].with_context(active_test=False).search([("name", "like", "TRUST")])
result = {
    "partners": {p.ref: [p.name, p.is_company, p.country_id.code or "", p.parent_id.ref or "",
                         sorted(p.category_id.mapped("name")), p.active] for p in partners},
    "tags": {t.name: [t.parent_id.name or "", t.active] for t in tags},
}
"""

SOURCE_QUEUE = r"""
messages = env["sync.message"].search([], order="id")
attempts = env["sync.message.attempt"].search([], order="id")
bindings = []
for binding in env["sync.binding"].search([], order="id"):
    record = env[binding.model].with_context(active_test=False).browse(binding.res_id).exists()
    key = (record.ref if binding.model == "res.partner" else record.name) if record else f"<gone {binding.res_id}>"
    bindings.append([binding.model, key, binding.remote_model, binding.remote_ref])
result = {
    "messages": [[m.id, m.model, m.record_name, m.operation, m.state, m.attempt_count, m.last_error or ""]
                 for m in messages],
    "bad_attempts": [[a.message_id.model, a.message_id.record_name, a.message_id.operation, a.outcome, a.error or ""]
                     for a in attempts if a.outcome != "acknowledged"],
    "attempts": len(attempts),
    "bindings": bindings,
    "changes": env["sync.change"].search_count([]),
}
"""

FINAL = ("done", "failed", "cancelled")


def target_state(rpc):
    """The TRUST tags and partners of the target, read over JSON-RPC as its administrator."""
    every = {"context": {"active_test": False}}
    tags = rpc.execute("res.partner.category", "search_read", [("name", "like", "TRUST")],
                       fields=["name", "parent_id", "active", "write_date"], **every)
    partners = rpc.execute("res.partner", "search_read", [("ref", "like", "TRUST")],
                           fields=["name", "ref", "is_company", "country_id", "parent_id", "category_id", "active",
                                   "write_date"], **every)
    # a tag sent as a res.partner lands there with its name and no ref
    tags_as_partners = rpc.execute("res.partner", "search_read", [("name", "like", "TRUST")],
                                   fields=["name", "ref"], **every)
    country_ids = sorted({p["country_id"][0] for p in partners if p["country_id"]})
    codes = {c["id"]: c["code"] for c in rpc.execute("res.country", "read", country_ids, fields=["code"])}
    tag_names = {t["id"]: t["name"] for t in tags}
    all_tag_ids = sorted({i for p in partners for i in p["category_id"]})
    tag_names.update({t["id"]: t["name"] for t in rpc.execute("res.partner.category", "read", all_tag_ids,
                                                               fields=["name"])})
    refs = {p["id"]: p["ref"] for p in partners}
    xmlids = rpc.execute("ir.model.data", "search_read", [("module", "=", "sync_src")],
                         fields=["name", "model", "res_id"])
    return {
        "partners": {p["ref"]: [p["name"], p["is_company"], codes.get(p["country_id"] and p["country_id"][0], ""),
                                refs.get(p["parent_id"] and p["parent_id"][0], "") if p["parent_id"] else "",
                                sorted(tag_names[i] for i in p["category_id"]), p["active"]] for p in partners},
        "tags": {t["name"]: [t["parent_id"][1].split(" / ")[-1] if t["parent_id"] else "", t["active"]]
                 for t in tags},
        "partner_refs": sorted(p["ref"] for p in partners),
        "tag_names": sorted(t["name"] for t in tags),
        "tags_as_partners": sorted(p["name"] for p in tags_as_partners if not p["ref"]),
        "ids": {"partners": {p["ref"]: p["id"] for p in partners}, "tags": {t["name"]: t["id"] for t in tags}},
        "write_dates": sorted(p["write_date"] for p in partners + tags),
        "xmlids": sorted([x["model"], x["name"], x["res_id"]] for x in xmlids),
    }


def queue_counts(source):
    """``(pending changes, open messages, messages)`` of the source, through psql (cheap to poll)."""
    final = ", ".join(f"'{state}'" for state in FINAL)
    row = source.cluster.psql(
        "SELECT (SELECT count(*) FROM sync_change), "
        f"(SELECT count(*) FROM sync_message WHERE state NOT IN ({final})), (SELECT count(*) FROM sync_message)",
        dbname=source.dbname)
    return tuple(int(value) for value in row.split("|"))


def wait_for_queue(source, since, min_messages, timeout=ARRIVAL_SECONDS):
    """Wait (without waking anything) until every captured change is queued and every message is final;
    return the seconds it took from ``since``, or None past ``timeout``."""
    while time.monotonic() - since <= timeout:
        changes, open_messages, total = queue_counts(source)
        if not changes and not open_messages and total >= min_messages:
            return time.monotonic() - since
        time.sleep(0.5)
    return None


def server_problems(server):
    try:
        text = server.logfile.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(log_problem_blocks(text))[-6000:] or "(no warning or error in the server log)"


def check_queue(source, server, what):
    """Every message done, not one attempt other than acknowledged; return the queue's picture."""
    queue = source.shell(SOURCE_QUEUE)
    not_done = [m for m in queue["messages"] if m[4] != "done"]
    log = server_problems(server)
    assert not not_done, f"{what}: messages not done: {not_done}\nsource server log:\n{log}"
    assert queue["bad_attempts"] == [], (
        f"{what}: attempts that were not acknowledged: {queue['bad_attempts']}\nsource server log:\n{log}")
    assert queue["changes"] == 0, f"{what}: captured changes never queued"
    return queue


def check_bindings(queue, target):
    """Each binding names the remote model of its record and the target's record of the same primary value."""
    wrong = []
    for model, key, remote_model, remote_ref in queue["bindings"]:
        kind = "partners" if model == "res.partner" else "tags"
        # a binding of a record deleted here: the right remote model is all there is to check
        expected = remote_ref if key.startswith("<gone ") else target["ids"][kind].get(key)
        if remote_model != model or str(expected) != remote_ref:
            wrong.append([model, key, remote_model, remote_ref, expected])
    assert wrong == [], f"bindings on the wrong remote model or record [model, key, remote, expected]: {wrong}"


def check_xmlids(target, tag_count, partner_count):
    """One external identifier per source record, each on the record's own model."""
    by_model = {}
    for model, name, _res_id in target["xmlids"]:
        by_model.setdefault(model, []).append(name)
    misplaced = [[model, name] for model, names in by_model.items() for name in names
                 if not (name.startswith("res_partner_category_") if model == "res.partner.category"
                         else name.startswith("res_partner_") and not name.startswith("res_partner_category_"))]
    assert misplaced == [], f"source records stored on the wrong model of the target: {misplaced}"
    assert {model: len(names) for model, names in by_model.items()} == {
        "res.partner.category": tag_count, "res.partner": partner_count}


def wake_and_wait(source, crons, timeout=120):
    """Wake the source's ``crons`` (xml ids in sync_queue) as ``ir.cron._trigger()`` does, and wait until
    each has run since; fail past ``timeout``."""
    names = ", ".join(f"'{name}'" for name in crons)
    ids = source.cluster.psql(
        f"SELECT string_agg(res_id::text, ',') FROM ir_model_data WHERE module = 'sync_queue' AND model = 'ir.cron' "
        f"AND name IN ({names})", dbname=source.dbname)
    now = "(now() at time zone 'UTC')"
    stamp = source.cluster.psql(f"SELECT {now}", dbname=source.dbname)
    source.cluster.psql(
        "INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date, write_uid, write_date) "
        f"SELECT id, {now}, 1, {now}, 1, {now} FROM ir_cron WHERE id IN ({ids})", dbname=source.dbname)
    source.cluster.psql(f"SELECT pg_notify('cron_trigger', '{source.dbname}')")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        late = source.cluster.psql(
            f"SELECT count(*) FROM ir_cron WHERE id IN ({ids}) AND (lastcall IS NULL OR lastcall < '{stamp}')",
            dbname=source.dbname)
        if int(late) == 0:
            return
        time.sleep(0.5)
    raise AssertionError(f"the source's schedulers {crons} did not run within {timeout}s")


def test_shared_schema_tags_and_partners_reach_a_plain_target_once(make_database, make_plain_database,
                                                                     start_server):
    target = make_plain_database("trusttgt")
    key = target.shell(REMOTE_USER)
    target_server = start_server(target)
    admin = target_server.rpc()
    source = make_database("trustsrc")
    setup = source.shell(f"PORT = {target_server.port}\nDATABASE = {target.dbname!r}\nKEY = {key!r}\n"
                         + SOURCE_SETUP)
    # what this test is about: two data types, one schema, one message type
    assert setup == ["trust.record", "trust.record", True], setup
    # the source's own cron workers send; nothing here calls a scheduler
    source_server = start_server(source, cron_threads=2)

    # ---- creation, one transaction ----------------------------------------------------------------------
    source.shell(RECORDS)
    committed = time.monotonic()
    took = wait_for_queue(source, committed, min_messages=12)
    assert took is not None, (
        f"not arrived within {ARRIVAL_SECONDS}s of the commit: (changes, open, messages) = {queue_counts(source)}; "
        f"{source.shell(SOURCE_QUEUE)['messages']}\nsource server log:\n{server_problems(source_server)}")
    queue = check_queue(source, source_server, "creation")
    expected = source.shell(SOURCE_STATE)
    assert len(expected["tags"]) == 4 and len(expected["partners"]) == 8, expected
    state = target_state(admin)
    assert state["tags_as_partners"] == [], "tags created as res.partner on the target"
    assert state["tag_names"] == ["TRUST Customer", "TRUST Gold", "TRUST Lead", "TRUST VIP"], "not once each"
    assert state["partner_refs"] == sorted(expected["partners"]), "partners not once each"
    assert state["tags"] == expected["tags"]
    assert state["partners"] == expected["partners"]
    # the source's picture itself, so that a wrong source cannot make a matching target pass
    assert expected["tags"]["TRUST VIP"] == ["TRUST Gold", True]
    assert expected["tags"]["TRUST Gold"] == ["TRUST Customer", True]
    assert expected["partners"]["TRUST-ANN"] == ["Ann", False, "BE", "TRUST-ACME", ["TRUST VIP"], True]
    assert expected["partners"]["TRUST-BOB"] == ["Bob", False, "NL", "TRUST-GLOBEX", ["TRUST Lead"], True]
    assert expected["partners"]["TRUST-CARL"] == ["Carl", False, "DE", "", ["TRUST Gold", "TRUST VIP"], True]
    assert expected["partners"]["TRUST-GLOBEX"] == ["Globex", True, "NL", "", ["TRUST Gold", "TRUST Lead"], True]
    assert expected["partners"]["TRUST-ERIN"][2:4] == ["FR", "TRUST-INITECH"]
    check_xmlids(state, 4, 8)
    check_bindings(queue, state)
    assert sorted({row[2] for row in queue["bindings"]}) == ["res.partner", "res.partner.category"]
    assert len(queue["bindings"]) == 12, queue["bindings"]

    # ---- changes and deletions ------------------------------------------------------------------------
    messages_before = len(queue["messages"])
    source.shell(CHANGES)
    committed = time.monotonic()
    took = wait_for_queue(source, committed, min_messages=messages_before + 1)
    assert took is not None, (
        f"changes not arrived within {ARRIVAL_SECONDS}s: {queue_counts(source)}; "
        f"{source.shell(SOURCE_QUEUE)['messages'][messages_before:]}\n"
        f"source server log:\n{server_problems(source_server)}")
    queue = check_queue(source, source_server, "changes")
    changed = source.shell(SOURCE_STATE)
    assert "TRUST-DAVE" not in changed["partners"] and "TRUST Lead" not in changed["tags"]
    assert changed["tags"]["TRUST Platinum"] == ["TRUST Customer", True]
    assert changed["partners"]["TRUST-BOB"][2:5] == ["BE", "TRUST-ACME", []]
    assert changed["partners"]["TRUST-CARL"][2] == "NL"
    assert changed["partners"]["TRUST-ERIN"][2] == "DE"
    state = target_state(admin)
    assert state["tags_as_partners"] == []
    # the tag's data type deletes, the partner's archives
    assert state["tag_names"] == ["TRUST Customer", "TRUST Platinum", "TRUST VIP"]
    assert state["tags"] == changed["tags"]
    assert state["partners"].get("TRUST-DAVE") == ["Dave", False, "BE", "TRUST-ACME", ["TRUST VIP"], False], (
        "the deleted contact is not archived on the target")
    assert {ref: values for ref, values in state["partners"].items() if ref != "TRUST-DAVE"} == changed["partners"]
    check_xmlids(state, 3, 8)
    check_bindings(queue, state)

    # ---- a second run changes nothing ---------------------------------------------------------------------
    messages_before = len(queue["messages"])
    wake_and_wait(source, ["ir_cron_create_queue", "ir_cron_send", "ir_cron_resend"])
    assert queue_counts(source) == (0, 0, messages_before), "the schedulers queued something without a change"
    again = target_state(admin)
    assert again == state, "running the schedulers again changed the target"
    # everything queued again ("queue all" of each data type): the same records written again, none created
    source.shell("for data_type in env['sync.data.type'].search([('name', 'in', ('Tags', 'Partners'))]):\n"
                 "    data_type.action_queue_all()\n")
    committed = time.monotonic()
    # "queue all" queues without waking the send schedulers (unlike "Synchronize now"): they send at their
    # interval, one minute; two intervals at most
    took = wait_for_queue(source, committed, min_messages=messages_before + 10, timeout=2 * ARRIVAL_SECONDS)
    assert took is not None, f"queue all not sent within {2 * ARRIVAL_SECONDS}s: {queue_counts(source)}"
    queue = check_queue(source, source_server, "queue all")
    assert len(queue["messages"]) == messages_before + 10, queue["messages"][messages_before:]
    resent = target_state(admin)
    assert {k: v for k, v in resent.items() if k != "write_dates"} == {
        k: v for k, v in again.items() if k != "write_dates"}, "sending everything again changed the target"
    check_bindings(queue, resent)
