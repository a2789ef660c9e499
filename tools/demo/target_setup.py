"""Demo scenario code (tools/run.py), on the target: who may send here, and the data types that receive.

mappings.py is prepended, and before it ORDERS (whether ``purchase`` is
installed here and ``sale`` on the source).  Makes:

* ``demo_connector``, the ordinary user the source's plain-mode system
  logs in as, with a fresh API key (its password over JSON-RPC, its bearer
  token over Odoo 19's JSON-2, which takes no password);
* the systems that post here: ``demo_source`` (the source database itself,
  in suite mode) and ``demo_broker`` (the loopback broker, relaying for
  ``demo_source``), each with a fresh inbound token;
* the same data types as the source's, accepting incoming documents, and
  purchase orders receiving the source's sale orders.

Runs again safely: what exists is kept, former demo keys and tokens are revoked.
"""

env["ir.config_parameter"].set_param("sync_base.own_code", "demo_target")
Users = env["res.users"].with_context(active_test=False)


def user(login, name, groups):
    found = Users.search([("login", "=", login)]) or Users.create({"name": name, "login": login})
    found.write({"active": True, GROUP_IDS: [(4, env.ref(xmlid).id) for xmlid in groups
                                               if env.ref(xmlid, raise_if_not_found=False)]})
    return found


master_groups = ["base.group_user", "base.group_partner_manager", "product.group_product_manager"]
if odoo.release.version_info[0] >= 19:
    # Odoo 19 imports (load) a company's contact reading the company's commercial fields as the importing user,
    # accounting's credit_limit among them: without its readonly group, every contact of a company is refused
    master_groups.append("account.group_account_readonly")
connector = user("demo_connector", "Demo connector (the source database)", master_groups)
env["res.users.apikeys"].sudo().search([("user_id", "=", connector.id), ("name", "=", "sync demo")]).unlink()
key = env["res.users.apikeys"].with_user(connector).sudo()._generate(None, "sync demo", False)
inbound = user("demo_inbound", "Demo inbound (documents from the source)",
               [*master_groups, "purchase.group_purchase_user"])
# the suite reads its own configuration: the other side's account needs no Synchronization group, which would show
# it every queued envelope (databases made by an earlier version gave it one)
inbound.write({GROUP_IDS: [(3, env.ref("sync_base.group_sync_user").id)]})
systems = env["sync.system"]
for code, name, relay in (("demo_source", "Demo source (suite)", False),
                          ("demo_broker", "Demo broker (WSO2)", "demo_source")):
    vals = {"name": name, "user_id": inbound.id, "relay_sources": relay}
    found = env["sync.system"].with_context(active_test=False).search([("code", "=", code)])
    if found:
        found.write({**vals, "active": True})
    else:
        found = env["sync.system"].create({**vals, "code": code})
    systems |= found
env["sync.inbound.token"].sudo().search([("system_id", "in", systems.ids), ("name", "=", "demo")]).unlink()
tokens = {system.code: system._generate_inbound_token(name="demo") for system in systems}

types = master_data()
receiving = [types["tags"], types["partners"], types["products"]]
if ORDERS:
    order_lines = data_type("Purchase order lines", "purchase.order.line", [
        reference("product_id", "product", types["variants"]), line("name", "description"),
        line("product_qty", "quantity"), line("price_unit", "price")], trigger="manual")
    receiving.append(data_type("Purchase orders", "purchase.order", [
        line("partner_ref", "number", primary=True), line("date_order", "date"),
        {"line_type": "reference", "value": "partner_id", "name": "vendor"},
        reference("dest_address_id", "customer", types["partners"]),
        {"line_type": "model", "value": "order_line", "name": "lines", "reference_id": order_lines.id},
    ], slug="order", trigger="manual"))
    vendor = env["res.partner"].search([("name", "=", "Demo Supplier SA")], limit=1)
    if not vendor:
        env["res.partner"].create({"name": "Demo Supplier SA", "is_company": True})
for item in receiving:
    # received only: a change made here is sent nowhere
    item.write({"trigger": "manual", "accept_inbound": True, "system_ids": [(6, 0, systems.ids)], "enabled": True})
result = {"key": key, "tokens": tokens}
