"""Demo scenario code (tools/run.py), on the source: confirmed sale orders for this run's companies.

STAMP and ORDERS are prepended by tools/run.py.  The orders are made once
this run's companies and products were acknowledged, in one transaction,
so that the run measures from its commit.
"""

stamp = STAMP
companies = env["res.partner"].search([("ref", "=like", f"DEMO-{stamp}-C%")], order="ref")
products = env["product.product"].search([("default_code", "=like", f"DEMO-{stamp}-%")], order="default_code")
orders = env["sale.order"].create([{
    "partner_id": companies[index % len(companies)].id, "client_order_ref": f"DEMO-{stamp}-SO{index:03d}",
    "order_line": [(0, 0, {"product_id": products[(index + shift) % len(products)].id,
                           "product_uom_qty": 1 + shift}) for shift in range(3)],
} for index in range(ORDERS)])
orders.action_confirm()
env.cr.execute("SELECT coalesce(max(id), 0) FROM sync_message")
result = env.cr.fetchone()[0]
