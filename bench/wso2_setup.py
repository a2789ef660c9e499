"""Scenario code (bench/run.py): N messages queued for a WSO2 system; BROKER_URL, BATCH and N are prepended."""

env = env  # noqa: F821, PLW0127 - bound by the shell runner
env["sync.message"].search([]).unlink()
system = env["sync.system"].search([("code", "=", "bench_wso2")]) or env["sync.system"].create({
    "name": "Bench broker", "code": "bench_wso2", "transport": "wso2", "batch_size": 200})
system.write({"wso2_url": BROKER_URL + "/services/sync", "wso2_batch": BATCH})  # noqa: F821
library = env["sync.library"].search([("slug", "=", "bench_w")]) or env["sync.library"].create(
    {"name": "W", "slug": "bench_w"})
data_type = env["sync.data.type"].search([("library_id", "=", library.id)]) or env["sync.data.type"].create({
    "name": "W", "library_id": library.id, "model_id": env["ir.model"]._get("res.partner").id, "trigger": "manual",
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"})],
})
if not data_type.schema_id:
    data_type.action_generate_schema()
partners = env["res.partner"].search([("name", "like", "W bench %")])
if not partners:
    partners = env["res.partner"].create([{"name": f"W bench {i}"} for i in range(N)])  # noqa: F821
env["sync.message"].create([
    {"system_id": system.id, "data_type_id": data_type.id, "model": "res.partner", "res_id": p.id,
     "operation": "upsert"} for p in partners
])
result = len(partners)
