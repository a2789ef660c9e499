"""Scenario code (bench/run.py), on the latency target of the broker: partners accepted from the broker.

The database is a copy of the bench database, its own systems paused.  The
broker relays the source's envelopes to ``/sync/broker/messages`` with the
token this returns; the data type applies them on arrival.
"""

env = env  # noqa: F821, PLW0127 - bound by the shell runner
GROUP_IDS = GROUP_IDS  # noqa: F821, PLW0127 - bound by the shell runner (its name differs by series)
env["sync.system"].search([]).write({"paused": True})
env["ir.config_parameter"].set_param("sync_base.own_code", "tgt")
user = env["res.users"].create(
    {
        "name": "Broker connector",
        "login": "broker_connector",
        GROUP_IDS: [
            (
                6,
                0,
                [
                    env.ref("base.group_user").id,
                    env.ref("base.group_partner_manager").id,
                ],
            )
        ],
    }
)
broker = env["sync.system"].create(
    {"name": "Broker", "code": "broker", "transport": "test", "user_id": user.id, "relay_sources": "src"}
)
library = env["sync.library"].create({"name": "Latency", "slug": "bench_latency"})
data_type = env["sync.data.type"].create(
    {
        "name": "Latency partners",
        "library_id": library.id,
        "model_id": env["ir.model"]._get("res.partner").id,
        "system_ids": [(6, 0, broker.ids)],
        "accept_inbound": True,
        "trigger": "manual",
        "line_ids": [
            (0, 0, {"line_type": "field", "value": "name", "name": "name"}),
            (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True}),
        ],
    }
)
data_type.action_generate_schema()
result = broker._generate_inbound_token()
