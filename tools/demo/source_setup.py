"""Demo scenario code (tools/run.py), on the source: the systems and the data types that send.

mappings.py is prepended, and before it TARGET_PORT, TARGET_DB, KEY (the
target user's API key), PROTOCOL and PROTOCOL_NAME (``json2``, JSON-2, for
an Odoo 19.0 target; ``jsonrpc``, JSON-RPC, before it), SUITE_TOKEN (the
target's inbound token for this database), TRANSPORT (``rpc`` or ``wso2``),
BROKER_URL and ORDERS (whether ``sale`` is installed here and ``purchase``
on the target).  Runs again
safely: what exists is updated, nothing is made twice.
"""

env["ir.config_parameter"].set_param("sync_base.own_code", "demo_source")
rpc = {"transport": "rpc", "rpc_protocol": PROTOCOL, "rpc_host": "127.0.0.1", "rpc_port": TARGET_PORT,
       "rpc_database": TARGET_DB, "batch_size": 200, "paused": False}


def system(code, vals):
    """The system ``code``, made or updated (and unarchived) with ``vals``."""
    found = env["sync.system"].with_context(active_test=False).search([("code", "=", code)])
    if found:
        found.write({**vals, "active": True})
        return found
    return env["sync.system"].create({**vals, "code": code})


# the API key serves both protocols: a password over JSON-RPC, the bearer token over JSON-2 (which takes no password)
plain = system("demo_target", {**rpc, "name": f"Demo target ({PROTOCOL_NAME})", "rpc_login": "demo_connector",
                               "rpc_password": KEY, "rpc_mode": "plain"})
suite = system("demo_target_suite", {**rpc, "name": f"Demo target purchasing ({PROTOCOL_NAME}, suite)", "rpc_login":
                                     "demo_connector", "rpc_password": KEY, "rpc_mode": "suite",
                                     "rpc_remote_token": SUITE_TOKEN})
broker = system("demo_broker", {
    "name": "Demo broker (WSO2)", "transport": "wso2", "wso2_url": BROKER_URL + "/services/sync",
    "wso2_ack_mode": "async", "wso2_batch": "batch", "wso2_targets": "demo_target", "ack_timeout": 3600,
    "batch_size": 50, "user_id": env.ref("base.user_admin").id, "paused": TRANSPORT != "wso2",
})
types = master_data()
sending = [types["tags"], types["partners"], types["products"]]
if ORDERS:
    env.company.name = "Demo Supplier SA"
    order_lines = data_type("Sale order lines", "sale.order.line", [
        reference("product_id", "product", types["variants"]), line("name", "description"),
        line("product_uom_qty", "quantity"), line("price_unit", "price")], trigger="manual")
    orders = data_type("Sale orders", "sale.order", [
        line("name", "number", primary=True), line("date_order", "date"),
        {"line_type": "default", "name": "vendor", "value": '{{"name": "{company_id.name}"}}'},
        reference("partner_id", "customer", types["partners"]),
        {"line_type": "model", "value": "order_line", "name": "lines", "reference_id": order_lines.id},
    ], slug="order", domain="[('state', '=', 'sale'), ('client_order_ref', 'like', 'DEMO-')]")
    sending.append(orders)
for item in sending:
    if TRANSPORT == "wso2":
        item.system_ids = broker
    else:
        item.system_ids = suite if item.model_name == "sale.order" else plain
for item in types.values():
    item.enabled = True
used = broker if TRANSPORT == "wso2" else plain | (suite if ORDERS else env["sync.system"])
result = {"connections": {}, "data_types": [item.name for item in sending]}
for item in used:
    action = item.action_test_connection()
    result["connections"][item.name] = [action["params"]["type"], action["params"]["message"]]
# the broker posts its acknowledgements here with this token (revoked again on the next run)
env["sync.inbound.token"].sudo().search([("system_id", "=", broker.id), ("name", "=", "demo")]).unlink()
result["ack_token"] = broker._generate_inbound_token(name="demo")
