"""Demo scenario code (tools/run.py), on the source: demo records, new ones on every run.

STAMP, COMPANIES and PRODUCTS are prepended by tools/run.py; everything is
made in one transaction, so that the run measures from its commit.
"""

stamp = STAMP
Category = env["res.partner.category"]
parent = Category.search([("name", "=", "Demo customers")], limit=1) or Category.create({"name": "Demo customers"})
vip = Category.search([("name", "=", "Demo VIP"), ("parent_id", "=", parent.id)], limit=1) or Category.create(
    {"name": "Demo VIP", "parent_id": parent.id})
countries = [env.ref(f"base.{code}") for code in ("be", "fr", "de", "nl", "lu")]
companies = env["res.partner"].create([{
    "name": f"Demo company {stamp}-{index:03d}", "ref": f"DEMO-{stamp}-C{index:03d}", "is_company": True,
    "email": f"office{index}@company{stamp}.example", "country_id": countries[index % len(countries)].id,
    "category_id": [(6, 0, (vip if index % 3 == 0 else parent).ids)],
} for index in range(COMPANIES)])
env["res.partner"].create([{
    "name": f"Demo contact {stamp}-{company_index:03d}-{index}", "ref": f"DEMO-{stamp}-P{company_index:03d}{index}",
    "email": f"contact{index}@company{stamp}.example", "phone": f"+32 2 555 {company_index:03d}{index}",
    "parent_id": company.id,
} for company_index, company in enumerate(companies) for index in range(4)])
env["product.template"].create([{
    "name": f"Demo product {stamp}-{index:03d}", "default_code": f"DEMO-{stamp}-{index:03d}",
    "list_price": 10 + index,
} for index in range(PRODUCTS)])
env.cr.execute("SELECT coalesce(max(id), 0) FROM sync_message")
result = env.cr.fetchone()[0]
