"""Demo scenario code (tools/run.py), on the target: the user the source connects as, with a fresh API key.

Runs again safely: the user is made once, its former demo keys are revoked.
"""

env = env  # noqa: F821, PLW0127 - bound by the shell runner
env["ir.config_parameter"].set_param("sync_base.own_code", "demo_target")
groups = [env.ref("base.group_user"), env.ref("base.group_partner_manager"),
          env.ref("product.group_product_manager", raise_if_not_found=False)]
user = env["res.users"].with_context(active_test=False).search([("login", "=", "demo_connector")])
if not user:
    user = env["res.users"].create({"name": "Demo connector (the source database)", "login": "demo_connector"})
user.write({"active": True, "groups_id": [(4, group.id) for group in groups if group]})
env["res.users.apikeys"].sudo().search([("user_id", "=", user.id), ("name", "=", "sync demo")]).unlink()
result = env["res.users.apikeys"].with_user(user).sudo()._generate(None, "sync demo", False)
