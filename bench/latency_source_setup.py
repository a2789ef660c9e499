"""Scenario code (bench/run.py), on the latency source: a plain-mode JSON-RPC system and an asynchronous WSO2 one.

RPC_PORT, RPC_DATABASE, RPC_KEY (the base-only target and its API key) and
BROKER_URL (the loopback broker) are prepended by bench/run.py.  The database
is a copy of the bench database: the systems of the benchmarks run before are
paused, so that each send cron looks at these two only.  Partners ``LATR-*``
go over JSON-RPC, partners ``LATW-*`` through the broker.  The result is the
two systems' ids and the token the broker acknowledges with.
"""

env = env  # noqa: F821, PLW0127 - bound by the shell runner
env["sync.system"].search([]).write({"paused": True})
env["ir.config_parameter"].set_param("sync_base.own_code", "src")
rpc = env["sync.system"].create(
    {
        "name": "Latency RPC target",
        "code": "latency_rpc",
        "transport": "rpc",
        "rpc_protocol": "jsonrpc",
        "rpc_host": "127.0.0.1",
        "rpc_port": RPC_PORT,  # noqa: F821
        "rpc_database": RPC_DATABASE,  # noqa: F821
        "rpc_login": "sync_remote",
        "rpc_password": RPC_KEY,  # noqa: F821
        "rpc_mode": "plain",
    }
)
broker = env["sync.system"].create(
    {
        "name": "Latency broker",
        "code": "broker",
        "transport": "wso2",
        "wso2_url": BROKER_URL + "/services/sync",  # noqa: F821
        "wso2_ack_mode": "async",
        "wso2_batch": "single",
        "wso2_targets": "tgt",
        "ack_timeout": 3600,
        "user_id": env.ref("base.user_admin").id,
    }
)
# one library each: the broker's messages are of the type the target accepts, bench_latency.res_partner
for system, prefix, slug in ((rpc, "LATR-", "bench_latency_rpc"), (broker, "LATW-", "bench_latency")):
    library = env["sync.library"].create({"name": f"Latency {slug}", "slug": slug})
    data_type = env["sync.data.type"].create(
        {
            "name": f"Latency partners {prefix}",
            "library_id": library.id,
            "model_id": env["ir.model"]._get("res.partner").id,
            "system_ids": [(6, 0, system.ids)],
            "domain": repr([("ref", "like", prefix)]),
            "line_ids": [
                (0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True}),
            ],
        }
    )
    data_type.action_generate_schema()
result = {"rpc": rpc.id, "wso2": broker.id, "ack_token": broker._generate_inbound_token()}
