"""Scenario code (bench/run.py ``compare``), on the source: a plain and a suite RPC system, one data type of
partners sending to both, and N partners to send (captured as created).

PLAIN_PORT, PLAIN_DATABASE, PLAIN_KEY (the plain target's API key of ``sync_remote``), SUITE_PORT,
SUITE_DATABASE, SUITE_TOKEN (the suite target's inbound token for code ``src``), LINES and N are prepended by
bench/run.py; SEED may be: ``sql`` drops the captured changes of the partners (bench/run.py binds them to
their counterparts by SQL instead of sending them).
"""

env = env  # noqa: F821, PLW0127 - bound by the shell runner
env["ir.config_parameter"].set_param("sync_base.own_code", "src")
common = {"transport": "rpc", "rpc_protocol": "jsonrpc", "rpc_host": "127.0.0.1", "retry_delays": "1",
          "max_attempts": 20}
plain = env["sync.system"].create({
    **common, "name": "Compare plain", "code": "bench_cmp_plain", "rpc_mode": "plain", "batch_size": 500,
    "rpc_port": PLAIN_PORT, "rpc_database": PLAIN_DATABASE,  # noqa: F821
    "rpc_login": "sync_remote", "rpc_password": PLAIN_KEY,  # noqa: F821
})
suite = env["sync.system"].create({
    **common, "name": "Compare suite", "code": "bench_cmp_suite", "rpc_mode": "suite",
    "batch_size": 100,  # what a receiving suite takes in one request
    "rpc_port": SUITE_PORT, "rpc_database": SUITE_DATABASE,  # noqa: F821
    "rpc_login": "admin", "rpc_password": "admin", "rpc_remote_token": SUITE_TOKEN,  # noqa: F821
})
library = env["sync.library"].create({"name": "Bench compare", "slug": "bench_cmp"})
data_type = env["sync.data.type"].create({
    "name": "Bench compare partners", "library_id": library.id,
    "model_id": env["ir.model"]._get("res.partner").id, "system_ids": [(6, 0, (plain | suite).ids)],
    "domain": "[('ref', 'like', 'CMPB-')]", "line_ids": LINES,  # noqa: F821
})
data_type.action_generate_schema()
env.cr.commit()  # noqa: E8102 - the partners below in transactions of their own
Partner = env["res.partner"]
for start in range(0, N, 5000):  # noqa: F821
    Partner.create([{"name": f"Compared {i}", "ref": f"CMPB-{i:06d}", "email": f"p{i}@compare.example"}
                    for i in range(start, min(start + 5000, N))])  # noqa: F821
    env.cr.commit()  # noqa: E8102
    env.invalidate_all()
if globals().get("SEED") == "sql":
    env.cr.execute("DELETE FROM sync_change WHERE model = 'res.partner'")
result = {"plain": plain.id, "suite": suite.id, "data_type": data_type.id}
