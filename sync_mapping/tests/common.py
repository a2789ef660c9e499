import json

from odoo.tests import TransactionCase

from odoo.addons.mail.tests.common import mail_new_test_user


class MappingCase(TransactionCase):
    """A contacts library: countries, categories, contacts and companies embedding their contacts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.manager = mail_new_test_user(cls.env, login="map_manager", groups="sync_base.group_sync_manager")
        cls.library = cls.env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
        cls.country_type = cls._data_type(
            "Countries", "res.country", [("field", "code", "code", {"primary": True}), ("field", "name", "name", {})]
        )
        cls.category_type = cls._data_type(
            "Categories", "res.partner.category", [("field", "name", "name", {"primary": True})]
        )
        cls.contact_type = cls._data_type(
            "Contacts",
            "res.partner",
            [
                ("field", "name", "name", {"primary": True}),
                ("field", "email", "email", {}),
                ("field", "is_company", "is_company", {}),
                ("reference", "country_id", "country", {"reference_id": cls.country_type.id}),
                ("reference", "category_id", "categories", {"reference_id": cls.category_type.id}),
            ],
        )
        cls.company_type = cls._data_type(
            "Companies",
            "res.partner",
            [
                ("field", "name", "name", {"primary": True}),
                ("field", "is_company", "is_company", {}),
                ("field", "street", "street", {}),
                ("reference", "country_id", "country", {"reference_id": cls.country_type.id}),
                ("reference", "category_id", "categories", {"reference_id": cls.category_type.id}),
                ("model", "child_ids", "contacts", {"reference_id": cls.contact_type.id}),
                ("default", "{country_id.code}-{name}", "label", {}),
                ("code", "record.name.upper()", "shout", {}),
            ],
            domain="[('is_company', '=', True)]",
        )
        for data_type in (cls.country_type, cls.category_type, cls.contact_type, cls.company_type):
            data_type.action_generate_schema()
        cls.belgium = cls.env.ref("base.be")
        cls.vip = cls.env["res.partner.category"].create({"name": "VIP"})
        cls.company = cls.env["res.partner"].create(
            {"name": "Azure Interior", "is_company": True, "street": "1 Rue Haute", "country_id": cls.belgium.id,
             "category_id": [(6, 0, cls.vip.ids)]}
        )
        cls.contact = cls.env["res.partner"].create(
            {"name": "Brandon Freeman", "email": "brandon@example.com", "parent_id": cls.company.id,
             "country_id": cls.belgium.id, "category_id": [(6, 0, cls.vip.ids)]}
        )

    @classmethod
    def _data_type(cls, name, model, lines, **vals):
        return cls.env["sync.data.type"].create(
            {
                "name": name,
                "library_id": cls.library.id,
                "model_id": cls.env["ir.model"]._get(model).id,
                "line_ids": [
                    (0, 0, {"line_type": t, "value": value, "name": prop, "sequence": i, **extra})
                    for i, (t, value, prop, extra) in enumerate(lines)
                ],
                **vals,
            }
        )

    def schema_of(self, data_type):
        return json.loads(data_type.schema_id.schema)
