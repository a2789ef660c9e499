from odoo.tests import tagged

from ..models.sync_data_type import SyncMappingError
from .common import MappingCase


@tagged("post_install", "-at_install")
class TestSerialize(MappingCase):
    def test_every_line_type(self):
        self.assertEqual(self.company_type.message_type, "contacts.res_partner_2")
        [document] = self.company_type._serialize(self.company)
        self.assertEqual(
            document,
            {
                "name": "Azure Interior",
                "is_company": True,
                "street": "1 Rue Haute",
                "country": {"code": "BE"},
                "categories": [{"name": "VIP"}],
                "contacts": [
                    {
                        "name": "Brandon Freeman",
                        "email": "brandon@example.com",
                        "is_company": False,
                        "country": {"code": "BE"},
                        "categories": [{"name": "VIP"}],
                    }
                ],
                "label": "BE-Azure Interior",
                "shout": "AZURE INTERIOR",
            },
        )
        self.assertEqual(self.company_type.schema_id._validation_errors(document), [])

    def test_false_is_null_and_batches_keep_order(self):
        bare = self.env["res.partner"].create({"name": "Bare", "is_company": True})
        documents = self.company_type._serialize(bare | self.company)
        self.assertEqual([d["name"] for d in documents], ["Bare", "Azure Interior"])
        self.assertIsNone(documents[0]["street"])
        self.assertIsNone(documents[0]["country"])
        self.assertEqual(documents[0]["contacts"], [])
        self.assertEqual(documents[0]["label"], "-Bare")

    def test_a_null_number_reads_as_the_record_reads_it(self):
        """A float or integer column left NULL is 0 in the document, batch or not: a receiver that stores the
        document reads 0 back, and a comparison of the two must agree."""
        data_type = self.env["sync.data.type"].create({
            "name": "Numbers", "library_id": self.company_type.library_id.id,
            "model_id": self.env["ir.model"]._get("res.partner").id, "trigger": "manual",
            "line_ids": [(0, 0, {"line_type": "field", "value": "partner_latitude", "name": "latitude"}),
                         (0, 0, {"line_type": "field", "value": "color", "name": "color"})],
        })
        data_type.action_generate_schema()
        bare = self.env["res.partner"].create({"name": "Bare"})
        self.env.cr.execute("UPDATE res_partner SET partner_latitude = NULL, color = NULL WHERE id = %s", [bare.id])
        self.env.invalidate_all()
        batch = data_type._serialize(bare | self.company)  # fetched at once: read from the cache
        self.env.invalidate_all()
        alone = data_type._serialize(bare)
        self.assertEqual(batch[0], {"latitude": 0.0, "color": 0})
        self.assertEqual(alone[0], batch[0])

    def test_reference_uses_binding_on_the_system(self):
        system = self.env["sync.system"].create({"name": "Shop", "code": "shop"})
        self.env["sync.binding"]._bind(system, self.belgium, "res.country", "77")
        [document] = self.contact_type._serialize(self.contact, system=system)
        self.assertEqual(document["country"], {"$ref": "77"})
        [without] = self.contact_type._serialize(self.contact)
        self.assertEqual(without["country"], {"code": "BE"})

    def test_reference_falls_back_to_display_name(self):
        self.contact_type.line_ids.filtered(lambda line: line.name == "categories").reference_id = False
        [document] = self.contact_type._serialize(self.contact)
        self.assertEqual(document["categories"], [{"name": "VIP"}])

    def test_other_company_never_reaches_the_system(self):
        other_company = self.env["res.company"].create({"name": "Other Co"})
        system = self.env["sync.system"].create({"name": "Shop", "code": "shop"})
        foreign = self.env["res.partner"].create({"name": "Foreign", "is_company": True,
                                                  "company_id": other_company.id})
        documents = self.company_type._serialize(foreign | self.company, system=system)
        self.assertEqual([d["name"] for d in documents], ["Azure Interior"])

    def test_language_of_the_system(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.belgium.with_context(lang="fr_FR").name = "Belgique"
        system = self.env["sync.system"].create({"name": "Shop", "code": "shop", "lang": "fr_FR"})
        [country] = self.country_type._serialize(self.belgium, system=system)
        self.assertEqual(country["name"], "Belgique")
        [country] = self.country_type._serialize(self.belgium)
        self.assertEqual(country["name"], "Belgium")

    def test_invalid_document_names_record_and_property(self):
        self.contact.email = "not an email"
        schema = self.schema_of(self.contact_type)
        schema["properties"]["email"]["format"] = "email"
        schema["properties"]["email"]["pattern"] = "@example\\.com$"
        self.contact_type.schema_id.schema = __import__("json").dumps(schema)
        with self.assertRaises(SyncMappingError) as info:
            self.contact_type._serialize(self.contact)
        message = str(info.exception)
        self.assertIn(f"res.partner,{self.contact.id}", message)
        self.assertIn("property email", message)

    def test_code_line_failure_fails_its_record_only(self):
        self.company_type.line_ids.filtered(lambda line: line.name == "shout").value = "record.street.upper()"
        bare = self.env["res.partner"].create({"name": "Bare", "is_company": True})
        entries = self.company_type._serialize_collect(bare | self.company)
        self.assertIsNotNone(entries[0][2])
        self.assertIn("property shout", str(entries[0][2]))
        self.assertIsNone(entries[1][2])
        self.assertEqual(entries[1][1]["shout"], "1 RUE HAUTE")

    def test_recursion_is_bounded_with_a_clear_error(self):
        tree = self._data_type("Tree", "res.partner", [("field", "name", "name", {})])
        tree.line_ids = [
            (0, 0, {"line_type": "model", "value": "parent_id", "name": "parent", "reference_id": tree.id})
        ]
        tree.action_generate_schema()
        parent = self.env["res.partner"]
        for depth in range(12):
            parent = self.env["res.partner"].create({"name": f"Level {depth}", "parent_id": parent.id})
        with self.assertRaisesRegex(SyncMappingError, "embeds itself deeper than 8 levels: Tree \u2192 Tree"):
            tree._serialize(parent)
        # a shallow tree is fine
        self.assertEqual(tree._serialize(self.contact)[0]["parent"]["name"], "Azure Interior")
        with self.assertRaisesRegex(SyncMappingError, "maps res.partner, not res.country"):
            tree._serialize(self.belgium)

    def test_batch_reads_each_field_once(self):
        simple = self._data_type(
            "Simple", "res.partner",
            [("field", "name", "name", {}), ("field", "email", "email", {}), ("field", "phone", "phone", {})],
        )
        simple.action_generate_schema()

        def queries_for(count):
            partners = self.env["res.partner"].create(
                [{"name": f"P{i}", "email": f"p{i}@example.com"} for i in range(count)]
            )
            self.env.flush_all()
            partners.invalidate_recordset()
            before = self.env.cr.sql_log_count
            documents = simple._serialize(partners)
            self.assertEqual(len(documents), count)
            return self.env.cr.sql_log_count - before

        # no per-record query: 10 and 200 records cost the same number of queries
        self.assertEqual(queries_for(10), queries_for(200))
