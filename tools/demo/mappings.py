"""Demo scenario code (tools/run.py), on both sides: the library and the data types both databases share.

Prepended to source_setup.py and target_setup.py.  The message type of a
data type is ``<library slug>.<schema slug>``: both sides make the same
library (``demo``) and the same schemas, so an envelope from the source
finds its data type on the target.  Everything runs again safely: what
exists is kept, nothing is made twice.
"""

Model = env["ir.model"]
library = env["sync.library"].search([("slug", "=", "demo")]) or env["sync.library"].create(
    {"name": "Demo", "slug": "demo"})


def data_type(name, model, lines, slug=None, **vals):
    """The demo data type ``name`` on ``model``, made with its lines (and schema ``slug``) when missing."""
    found = env["sync.data.type"].with_context(active_test=False).search(
        [("library_id", "=", library.id), ("name", "=", name)])
    if found:
        return found
    if slug:
        schema = env["sync.schema"].search([("library_id", "=", library.id), ("slug", "=", slug)])
        vals["schema_id"] = (schema or env["sync.schema"].create(
            {"library_id": library.id, "name": name, "slug": slug, "schema": "{}"})).id
    found = env["sync.data.type"].create({
        "name": name, "library_id": library.id, "model_id": Model._get(model).id, **vals,
        "line_ids": [(0, 0, {"line_type": "field", **item}) for item in lines if "line_type" not in item]
        + [(0, 0, item) for item in lines if "line_type" in item],
    })
    found.action_generate_schema()
    return found


def line(value, name=None, primary=False):
    return {"value": value, "name": name or value, "primary": primary}


def reference(value, name, target):
    return {"line_type": "reference", "value": value, "name": name, "reference_id": target.id}


def master_data():
    """Countries, contact tags, companies and contacts, products and product variants."""
    countries = data_type("Countries", "res.country", [line("code", primary=True)], trigger="manual")
    tags = data_type("Contact tags", "res.partner.category", [line("name", primary=True)],
                     domain="[('name', 'like', 'Demo')]")
    if not tags.line_ids.filtered(lambda item: item.value == "parent_id"):
        tags.write({"line_ids": [(0, 0, reference("parent_id", "parent_id", tags))]})
        tags.action_generate_schema()
    partners = data_type("Companies and contacts", "res.partner",
                         [line("name"), line("ref", primary=True), line("email"), line("phone"), line("is_company"),
                          reference("country_id", "country_id", countries),
                          reference("category_id", "category_id", tags)],
                         domain="[('ref', 'like', 'DEMO-')]", sync_deletion=True)
    if not partners.line_ids.filtered(lambda item: item.value == "parent_id"):
        partners.write({"line_ids": [(0, 0, reference("parent_id", "parent_id", partners))]})
        partners.action_generate_schema()
    products = data_type("Products", "product.template",
                         [line("name"), line("default_code", primary=True), line("list_price")],
                         domain="[('default_code', 'like', 'DEMO-')]")
    variants = data_type("Product variants", "product.product", [line("default_code", primary=True)],
                         trigger="manual")
    return {"countries": countries, "tags": tags, "partners": partners, "products": products, "variants": variants}
