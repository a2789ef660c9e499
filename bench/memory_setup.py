"""Scenario code (bench/run.py): a backlog of SYSTEMS x PARTNERS messages through the test transport.

SYSTEMS and PARTNERS are prepended by bench/run.py.
"""

env = env  # noqa: F821, PLW0127 - bound by the shell runner
library = env["sync.library"].create({"name": "M", "slug": "bench_m"})
systems = env["sync.system"].create([
    {"name": f"M{i}", "code": f"bench_m_{i}", "transport": "test", "test_record_calls": False, "batch_size": 500}
    for i in range(SYSTEMS)  # noqa: F821
])
data_type = env["sync.data.type"].create({
    "name": "M", "library_id": library.id, "model_id": env["ir.model"]._get("res.partner").id,
    "trigger": "manual", "system_ids": [(6, 0, systems.ids)],
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                 (0, 0, {"line_type": "field", "value": "email", "name": "email"})],
})
data_type.action_generate_schema()
partners = env["res.partner"].create([{"name": f"M bench {i}", "email": f"m{i}@bench.example"}
                                      for i in range(PARTNERS)])  # noqa: F821
result = env["sync.message"]._queue_records(data_type, partners, "upsert")
