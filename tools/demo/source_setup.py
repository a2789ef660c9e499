"""Demo scenario code (tools/run.py), on the source: the target as a system and a ready configuration.

TARGET_PORT, TARGET_DB and KEY are prepended by tools/run.py.  Runs again
safely: what exists is updated, nothing is made twice.
"""

env = env  # noqa: F821, PLW0127 - bound by the shell runner
env["ir.config_parameter"].set_param("sync_base.own_code", "demo_source")
Model = env["ir.model"]
system_vals = {
    "name": "Demo target (JSON-RPC)", "transport": "rpc", "rpc_protocol": "jsonrpc", "rpc_host": "127.0.0.1",
    "rpc_port": TARGET_PORT, "rpc_database": TARGET_DB, "rpc_login": "demo_connector",  # noqa: F821
    "rpc_password": KEY, "rpc_mode": "plain", "batch_size": 200, "paused": False,  # noqa: F821
}
system = env["sync.system"].with_context(active_test=False).search([("code", "=", "demo_target")])
if system:
    system.write({**system_vals, "active": True})
else:
    system = env["sync.system"].create({**system_vals, "code": "demo_target"})
library = env["sync.library"].search([("slug", "=", "demo")])
if not library:
    library = env["sync.library"].create({"name": "Demo", "slug": "demo"})


def data_type(name, model, lines, **vals):
    """The demo data type ``name``, made with its field lines when missing."""
    found = env["sync.data.type"].with_context(active_test=False).search(
        [("library_id", "=", library.id), ("name", "=", name)])
    if found:
        return found
    return env["sync.data.type"].create({
        "name": name, "library_id": library.id, "model_id": Model._get(model).id, **vals,
        "line_ids": [(0, 0, dict(line_type="field", **line)) for line in lines],
    })


def line(value, primary=False):
    return {"value": value, "name": value, "primary": primary}


def reference(value, target):
    return {"line_type": "reference", "value": value, "name": value, "reference_id": target.id}


countries = data_type("Countries", "res.country", [line("code", primary=True)], trigger="manual")
categories = data_type("Contact tags", "res.partner.category", [line("name", primary=True)],
                       system_ids=[(6, 0, system.ids)], domain="[('name', 'like', 'Demo')]")
partners = data_type("Companies and contacts", "res.partner",
                     [line("name"), line("ref", primary=True), line("email"), line("phone"), line("is_company")],
                     system_ids=[(6, 0, system.ids)], domain="[('ref', 'like', 'DEMO-')]", sync_deletion=True)
products = data_type("Products", "product.template",
                     [line("name"), line("default_code", primary=True), line("list_price")],
                     system_ids=[(6, 0, system.ids)], domain="[('default_code', 'like', 'DEMO-')]")
if not categories.line_ids.filtered(lambda item: item.value == "parent_id"):
    categories.write({"line_ids": [(0, 0, reference("parent_id", categories))]})
if not partners.line_ids.filtered(lambda item: item.value == "parent_id"):
    partners.write({"line_ids": [(0, 0, reference("parent_id", partners)),
                                 (0, 0, reference("country_id", countries)),
                                 (0, 0, reference("category_id", categories))]})
for item in countries | categories | partners | products:
    item.action_generate_schema()
    item.enabled = True
action = system.action_test_connection()
result = {"connection": [action["params"]["type"], action["params"]["message"]],
          "data_types": (categories | partners | products).mapped("name")}
