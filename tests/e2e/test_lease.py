"""A batch whose transport call outlives its lease is sent once: its worker keeps the lease while it works."""

from tests.e2e.helpers import concurrently

SETUP = r"""
env["ir.config_parameter"].set_param("sync_queue.lease_seconds", "2")
library = env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
system = env["sync.system"].create({"name": "Slow", "code": "slow", "transport": "test", "batch_size": 10,
                                    "test_delay": 6.0})
data_type = env["sync.data.type"].create({
    "name": "Contacts", "library_id": library.id, "model_id": env["ir.model"]._get("res.partner").id,
    "system_ids": [(6, 0, system.ids)],
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"})],
})
data_type.action_generate_schema()
env["res.partner"].create([{"name": f"Slow {i}"} for i in range(3)])
"""

# the changes are in the outbox once SETUP has committed
QUEUE = r"""
env["sync.message"]._cron_create_queue()
result = env["sync.message"].search_count([("state", "=", "pending")])
"""

# the sender: one call of the slow transport, three times the lease
SEND = "result = env['sync.message']._cron_send()\n"

# the recovery scheduler of another worker, run once the sender's claim is committed and its lease has passed
RECOVER = r"""
import time
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    env.cr.rollback()
    env.cr.execute("SELECT count(*) FROM sync_message WHERE state = 'sending'")
    if env.cr.fetchone()[0]:
        break
    time.sleep(0.1)
time.sleep(3.5)  # past the lease of 2 s, the transport still busy
env.cr.rollback()
env["sync.message"]._cron_resend()
env.cr.execute("SELECT state, lease_until > (now() AT TIME ZONE 'UTC') FROM sync_message")
result = sorted(map(list, env.cr.fetchall()))
"""

OUTCOME = r"""
env["sync.system"].search([]).write({"test_delay": 0})
env["sync.message"]._cron_send()
env.cr.execute("SELECT message_uuid, count(*) FROM sync_test_transport_call GROUP BY message_uuid")
calls = dict(env.cr.fetchall())
messages = env["sync.message"].search([])
result = {"calls": sorted(calls.values()), "states": sorted(messages.mapped("state")),
          "attempts": sorted(messages.mapped("attempt_count"))}
"""


def test_a_batch_in_flight_past_its_lease_is_not_recovered_nor_sent_twice(make_database):
    db = make_database("lease")
    db.shell(SETUP)
    assert db.shell(QUEUE) == 3
    _sent, seen_by_recovery = concurrently(lambda: db.shell(SEND), lambda: db.shell(RECOVER), barrier=True)
    # while the sender is on the network its lease is kept: the recovery leaves the batch alone
    assert seen_by_recovery == [["sending", True]] * 3, seen_by_recovery
    outcome = db.shell(OUTCOME)
    assert outcome == {"calls": [1, 1, 1], "states": ["done"] * 3, "attempts": [1, 1, 1]}, outcome
