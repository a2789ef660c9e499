"""Scenario code (bench/run.py ``compare``), on the suite target: the source ``src`` as an inbound system and a
data type accepting its partners; the result is the inbound token the source posts with.

LINES is prepended by bench/run.py.
"""

env = env  # noqa: F821, PLW0127 - bound by the shell runner
env["ir.config_parameter"].set_param("sync_base.own_code", "tgt")
user = env["res.users"].create({
    "name": "Source connector", "login": "source_connector",
    GROUP_IDS: [(6, 0, [env.ref("base.group_user").id, env.ref("base.group_partner_manager").id])],  # noqa: F821
})
source = env["sync.system"].create({"name": "Source", "code": "src", "transport": "test", "user_id": user.id})
library = env["sync.library"].create({"name": "Bench compare", "slug": "bench_cmp"})
data_type = env["sync.data.type"].create({
    "name": "Bench compare partners from the source", "library_id": library.id,
    "model_id": env["ir.model"]._get("res.partner").id, "trigger": "manual",
    "system_ids": [(6, 0, source.ids)], "accept_inbound": True, "line_ids": LINES,  # noqa: F821
})
data_type.action_generate_schema()
result = source._generate_inbound_token()
