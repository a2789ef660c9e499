"""A library exported from one database and imported into a fresh one gives the same documents."""

import json

SETUP = r"""
library = env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
def data_type(name, model, lines):
    dt = env["sync.data.type"].create({
        "name": name, "library_id": library.id, "model_id": env["ir.model"]._get(model).id,
        "line_ids": [(0, 0, {"line_type": t, "value": v, "name": p, "sequence": i, **x})
                     for i, (t, v, p, x) in enumerate(lines)],
    })
    dt.action_generate_schema()
    return dt
country = data_type("Countries", "res.country", [("field", "code", "code", {"primary": True})])
contact = data_type("Contacts", "res.partner", [
    ("field", "name", "name", {"primary": True}), ("field", "email", "email", {}),
    ("reference", "country_id", "country", {"reference_id": country.id}),
])
data_type("Companies", "res.partner", [
    ("field", "name", "name", {"primary": True}),
    ("model", "child_ids", "contacts", {"reference_id": contact.id}),
    ("default", "{country_id.code}-{name}", "label", {}),
    ("code", "record.name.upper()", "shout", {}),
])
result = library._export_config()
"""

PARTNERS = r"""
company = env["res.partner"].create({"name": "Azure Interior", "is_company": True, "country_id": env.ref("base.be").id})
env["res.partner"].create({"name": "Brandon", "email": "b@example.com", "parent_id": company.id,
                           "country_id": env.ref("base.be").id})
"""

SERIALIZE = r"""
library = env["sync.library"].search([("slug", "=", "contacts")])
company = env["res.partner"].search([("name", "=", "Azure Interior")])
result = {dt.name: dt._serialize(company if dt.model_name == "res.partner" else env.ref("base.be"))
          for dt in library.data_type_ids}
"""


def test_export_import_into_fresh_database(make_database):
    staging = make_database("staging")
    production = make_database("production")
    exported = staging.shell(SETUP + PARTNERS)
    production.shell(PARTNERS)
    load = f"env['sync.library']._import_config(__import__('json').loads({json.dumps(json.dumps(exported))}))\n"
    production.shell(load)
    assert production.shell(SERIALIZE) == staging.shell(SERIALIZE)
    # a second import changes nothing
    snapshot = (
        "result = env['sync.library'].search([])._export_config()\n"
        "result['stamps'] = [str(line.write_date) for line in env['sync.mapping.line'].search([])]\n"
    )
    before = production.shell(snapshot)
    production.shell(load)
    after = production.shell(snapshot)
    assert after == before
    assert {k: v for k, v in after.items() if k != "stamps"} == exported
