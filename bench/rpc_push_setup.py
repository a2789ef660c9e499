"""Scenario code (bench/run.py), on the source: a plain-mode JSON-RPC system and a data type of partners.

PORT, DATABASE and KEY are prepended by bench/run.py; CODE (the system's code, ``bench_rpc``) and PREFIX (the
references the data type sends, ``RPCB-``) may be.
"""

env = env  # noqa: F821, PLW0127 - bound by the shell runner
CODE = globals().get("CODE", "bench_rpc")
PREFIX = globals().get("PREFIX", "RPCB-")
env["ir.config_parameter"].set_param("sync_base.own_code", "src")
system = env["sync.system"].create({
    "name": f"Bench target {CODE}", "code": CODE, "transport": "rpc", "rpc_protocol": "jsonrpc",
    "rpc_host": "127.0.0.1", "rpc_port": PORT, "rpc_database": DATABASE, "rpc_login": "sync_remote",  # noqa: F821
    "rpc_password": KEY, "rpc_mode": "plain", "batch_size": 500,  # noqa: F821
})
library = env["sync.library"].create({"name": f"Bench RPC {CODE}", "slug": CODE})
data_type = env["sync.data.type"].create({
    "name": f"Bench partners {CODE}", "library_id": library.id, "model_id": env["ir.model"]._get("res.partner").id,
    "system_ids": [(6, 0, system.ids)], "domain": f"[('ref', 'like', '{PREFIX}')]",
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                 (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True}),
                 (0, 0, {"line_type": "field", "value": "email", "name": "email"})],
})
data_type.action_generate_schema()
result = system.id
