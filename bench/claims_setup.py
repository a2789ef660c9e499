"""Scenario code (bench/run.py): a backlog of messages on four systems, for the claim benchmark."""

PER_SYSTEM = 2500
env = env  # noqa: F821, PLW0127 - bound by the shell runner
env["sync.message"].search([]).unlink()
library = env["sync.library"].search([("slug", "=", "bench_c")]) or env["sync.library"].create(
    {"name": "C", "slug": "bench_c"})
systems = env["sync.system"].search([("code", "like", "bench_c_")])
if not systems:
    systems = env["sync.system"].create([
        {"name": f"C{i}", "code": f"bench_c_{i}", "transport": "test", "test_record_calls": False, "batch_size": 200}
        for i in range(4)
    ])
data_type = env["sync.data.type"].search([("library_id", "=", library.id)]) or env["sync.data.type"].create({
    "name": "C", "library_id": library.id, "model_id": env["ir.model"]._get("res.partner").id,
    "trigger": "manual", "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"})],
})
if not data_type.schema_id:
    data_type.action_generate_schema()
partners = env["res.partner"].search([("name", "like", "C bench %")])
if not partners:
    partners = env["res.partner"].create([{"name": f"C bench {i}"} for i in range(PER_SYSTEM)])
env["sync.message"].create([
    {"system_id": s.id, "data_type_id": data_type.id, "model": "res.partner", "res_id": p.id, "operation": "upsert"}
    for s in systems for p in partners
])
result = len(systems) * len(partners)
