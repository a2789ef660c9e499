"""The send queue with real commits, several connections at once and several server processes."""

import time

import pytest

from tests.e2e.helpers import concurrently

SETUP = r"""
Model = env["ir.model"]
library = env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
systems = env["sync.system"].create([
    {"name": f"Target {code}", "code": code, "transport": "test", "batch_size": 50} for code in CODES
])
data_type = env["sync.data.type"].create({
    "name": "Contacts", "library_id": library.id, "model_id": Model._get("res.partner").id,
    "system_ids": [(6, 0, systems.ids)],
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True})],
})
data_type.action_generate_schema()
env["res.partner"].create([{"name": f"Queued {i}"} for i in range(COUNT)])
"""

QUEUE = "env['sync.message']._cron_create_queue(limit=100000)\nresult = env['sync.message'].search_count([])\n"

SEND = "result = env['sync.message']._cron_send()\n"

COUNT_CALLS = r"""
env.cr.execute("SELECT message_uuid, count(*) FROM sync_test_transport_call GROUP BY message_uuid")
calls = dict(env.cr.fetchall())
messages = env["sync.message"].search([])
result = {"calls": sorted(set(calls.values())), "called": len(calls), "messages": len(messages),
          "states": sorted(set(messages.mapped("state")))}
"""


def test_two_workers_hand_each_message_to_the_transport_once(make_database):
    db = make_database("claims")
    db.shell("CODES = ['t1']\nCOUNT = 400\n" + SETUP)
    assert db.shell(QUEUE) == 400
    concurrently(lambda: db.shell(SEND), lambda: db.shell(SEND), lambda: db.shell(SEND))
    counts = db.shell(COUNT_CALLS)
    assert counts == {"calls": [1], "called": 400, "messages": 400, "states": ["done"]}


def test_a_hanging_system_does_not_delay_another(make_database):
    db = make_database("hang")
    db.shell("CODES = ['slow', 'fast']\nCOUNT = 20\n" + SETUP +
             "env['sync.system'].search([('code', '=', 'slow')]).test_delay = 20\n")
    db.shell(QUEUE)
    started = time.monotonic()
    timings = {}

    def worker(name):
        sent = db.shell(SEND)
        timings[name] = (round(time.monotonic() - started, 1), sent)

    def watcher():
        # when the fast system's messages are all done, the slow one still hangs
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            # through psql, at once: an Odoo shell takes seconds to start while the workers hold the CPU
            rows = db.cluster.psql(
                "SELECT s.code, string_agg(DISTINCT m.state, ',' ORDER BY m.state) FROM sync_system s "
                "JOIN sync_message m ON m.system_id = s.id WHERE s.code IN ('slow', 'fast') GROUP BY s.code",
                dbname=db.dbname)
            states = {code: value.split(",") for code, value in (row.split("|") for row in rows.splitlines() if row)}
            if states.get("fast") == ["done"]:
                return time.monotonic() - started, states["slow"]
            time.sleep(0.3)
        return None, None

    _, _, (fast_done, slow_states) = concurrently(lambda: worker("a"), lambda: worker("b"), watcher)
    assert fast_done is not None, f"the fast system's messages were not sent (workers {timings})"
    assert slow_states == ["sending"], f"the fast system waited for the slow one ({fast_done:.1f}s, {timings})"
    assert max(elapsed for elapsed, _sent in timings.values()) >= 20


def test_new_data_type_is_captured_by_another_server(make_database, start_server):
    db = make_database("signal")
    first = start_server(db)
    second = start_server(db)
    rpc1, rpc2 = first.rpc(), second.rpc()
    partner = rpc2.execute("res.partner", "create", {"name": "Before"})
    rpc2.execute("res.partner", "write", [partner], {"email": "before@example.com"})
    assert db.shell("result = env['sync.change'].search_count([])\n") == 0
    library = rpc1.execute("sync.library", "create", {"name": "L", "slug": "l"})
    model_id = rpc1.execute("ir.model", "search", [["model", "=", "res.partner"]])[0]
    rpc1.execute("sync.data.type", "create", {
        "name": "P", "library_id": library, "model_id": model_id,
        "line_ids": [(0, 0, {"line_type": "field", "value": "email", "name": "email"})],
    })
    rpc2.execute("res.partner", "write", [partner], {"email": "after@example.com"})
    assert db.shell("result = env['sync.change'].search([]).mapped('res_id')\n") == [partner]


POISON_SETUP = r"""
env["ir.config_parameter"].set_param("sync_queue.lease_seconds", "2")
library = env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
system = env["sync.system"].create({"name": "Target", "code": "poisoned", "transport": "test", "batch_size": 10,
                                    "max_attempts": 3, "test_kill_marker": "POISON"})
data_type = env["sync.data.type"].create({
    "name": "Contacts", "library_id": library.id, "model_id": env["ir.model"]._get("res.partner").id,
    "system_ids": [(6, 0, system.ids)],
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"})],
})
data_type.action_generate_schema()
env["res.partner"].create([{"name": name} for name in ("Healthy 1", "POISON pill", "Healthy 2", "Healthy 3")])
"""

WAKE_SCHEDULERS = r"""
env.ref("sync_queue.ir_cron_resend")._trigger()
env.ref("sync_queue.ir_cron_send")._trigger()
messages = env["sync.message"].search([])
result = {m.record_name: [m.state, m.attempt_count, m.last_error or ""] for m in messages}
"""

ACTIVE_CRONS = r"""
result = sorted(env["ir.cron"].search([("cron_name", "like", "Synchronization")]).mapped("cron_name"))
"""


@pytest.mark.long
def test_a_message_that_kills_its_worker_ends_failed_alone(make_database, start_server):
    """A real prefork server whose cron worker is SIGKILLed by one record, every time it sends it."""
    db = make_database("poison")
    db.shell(POISON_SETUP)
    assert db.shell(QUEUE) == 4
    active_crons = db.shell(ACTIVE_CRONS)
    server = start_server(db, workers=2, cron_threads=1)
    deadline = time.monotonic() + 240
    states = {}
    while time.monotonic() < deadline:
        states = db.shell(WAKE_SCHEDULERS)
        if all(state in ("done", "failed") for state, _count, _error in states.values()):
            break
        time.sleep(1)
    assert states["POISON pill"][:2] == ["failed", 3], states
    assert "stopped while sending" in states["POISON pill"][2]
    for name in ("Healthy 1", "Healthy 2", "Healthy 3"):
        # at most the batch that the poison killed, then once alone
        assert states[name][0] == "done" and states[name][1] <= 2, states
    assert server.proc.poll() is None, "the server's main process survives its cron worker"
    assert db.shell(ACTIVE_CRONS) == active_crons
