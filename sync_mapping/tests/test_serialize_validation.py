"""One schema validator per _serialize_collect call (sync.schema._validator).  Each document is checked
against the schema as it is when the document is built; each error stays on its own record."""

import json
from unittest.mock import patch

from odoo.addons.sync_mapping.models import sync_data_type_serialize as serialize_module
from odoo.addons.sync_mapping.models.sync_schema import get_validator

from .common import MappingCase


class TestSerializeValidation(MappingCase):

    def _set_schema(self, data_type, mutate):
        schema = self.schema_of(data_type)
        mutate(schema)
        data_type.schema_id.schema = json.dumps(schema)

    def _partners(self, values):
        return self.env["res.partner"].create([dict(v, parent_id=self.company.id) for v in values])

    def test_schema_edited_between_two_calls_then_changed_back(self):
        original = self.contact_type.schema_id.schema
        partner = self._partners([{"name": "Edited", "email": "x@elsewhere.org"}])
        self.assertIsNone(self.contact_type._serialize_collect(partner)[0][2])
        self._set_schema(self.contact_type, lambda s: s["properties"]["email"].update(pattern="@example\\.com$"))
        error = self.contact_type._serialize_collect(partner)[0][2]
        self.assertIn("property email", str(error))
        self.contact_type.schema_id.schema = original  # back to a text whose validator is cached
        self.assertIsNone(self.contact_type._serialize_collect(partner)[0][2])
        self._set_schema(self.contact_type, lambda s: s["properties"]["email"].update(pattern="@example\\.com$"))
        self.assertIn("property email", str(self.contact_type._serialize_collect(partner)[0][2]))

    def test_several_failures_each_on_its_own_record_in_its_own_property(self):
        def mutate(schema):
            schema["properties"]["email"]["pattern"] = "@example\\.com$"
            schema["properties"]["name"]["maxLength"] = 8
        self._set_schema(self.contact_type, mutate)
        partners = self._partners([
            {"name": "Okay", "email": "ok@example.com"},
            {"name": "Much too long a name", "email": "a@example.com"},
            {"name": "Short", "email": "b@elsewhere.org"},
            {"name": "Also much too long", "email": "c@elsewhere.org"},
            {"name": "Fine", "email": "fine@example.com"},
        ])
        entries = self.contact_type._serialize_collect(partners)
        by_record = {record.id: (document, error) for record, document, error in entries}
        self.assertEqual(len(entries), 5)
        self.assertIsNone(by_record[partners[0].id][1])
        self.assertIsNone(by_record[partners[4].id][1])
        for partner, props in ((partners[1], {"name"}), (partners[2], {"email"}), (partners[3], {"name", "email"})):
            document, error = by_record[partner.id]
            self.assertIsNone(document)
            text = str(error)
            self.assertIn(f"res.partner,{partner.id}", text)
            for other in partners - partner:
                self.assertNotIn(f"res.partner,{other.id} ", text)
                self.assertNotIn(f"res.partner,{other.id})", text)
            for prop in ("name", "email"):
                (self.assertIn if prop in props else self.assertNotIn)(f"property {prop}:", text)

    def test_across_batches_of_one_call(self):
        self._set_schema(self.contact_type, lambda s: s["properties"]["email"].update(pattern="@example\\.com$"))
        partners = self._partners([
            {"name": f"P{i}", "email": f"p{i}@{'elsewhere.org' if i % 3 == 0 else 'example.com'}"} for i in range(7)
        ])
        with patch.object(serialize_module, "BATCH_SIZE", 2):
            entries = self.contact_type._serialize_collect(partners)
        self.assertEqual([r for r, _d, _e in entries], list(partners))
        for index, (record, document, error) in enumerate(entries):
            if index % 3 == 0:
                self.assertIsNone(document)
                self.assertIn(f"res.partner,{record.id}", str(error))
            else:
                self.assertIsNone(error, index)
                self.assertEqual(document["email"], record.email)

    def test_two_data_types_sharing_one_schema(self):
        other = self._data_type("Contacts too", "res.partner", [
            ("field", "name", "name", {"primary": True}), ("field", "email", "email", {}),
            ("field", "is_company", "is_company", {}), ("field", "street", "street", {}),
        ], schema_id=self.contact_type.schema_id.id)
        self._set_schema(self.contact_type, lambda s: s.update(additionalProperties=False))
        entries = other._serialize_collect(self.contact)
        self.assertIn("property (document)", str(entries[0][2]))
        self.assertIn(self.contact_type.schema_id.display_name, str(entries[0][2]))
        self.assertIsNone(self.contact_type._serialize_collect(self.contact)[0][2])

    def test_without_schema_each_record_fails_with_the_reason(self):
        self.contact_type.schema_id = False
        partners = self._partners([{"name": "A"}, {"name": "B"}])
        entries = self.contact_type._serialize_collect(partners)
        self.assertEqual([r for r, _d, _e in entries], list(partners))
        for _record, document, error in entries:
            self.assertIsNone(document)
            self.assertIn("has no schema", str(error))

    def test_nothing_to_validate_with_a_schema(self):
        self.assertEqual(self.contact_type._serialize_collect(self.env["res.partner"]), [])

    def test_results_equal_the_per_document_check(self):
        """_validation_errors (inbound upserts) and the batch's validator give the same errors."""
        def mutate(schema):
            schema["properties"]["email"]["pattern"] = "@example\\.com$"
            schema["properties"]["name"]["maxLength"] = 8
        self._set_schema(self.contact_type, mutate)
        schema = self.contact_type.schema_id
        errors_of = schema._validator()
        for document in ({"name": "x" * 20, "email": "a@b.org"}, {"name": "ok", "email": "a@example.com"},
                         {"name": 3}, [], None, {"email": None, "name": "x"}):
            self.assertEqual(errors_of(document), schema._validation_errors(document))
        # the validator keeps the schema it was made from: made before an edit, it does not see the edit
        self.assertEqual(get_validator(schema.schema)[0].schema["properties"]["name"]["maxLength"], 8)

    def test_embedded_type_documents_validated_by_the_outer_schema(self):
        self._set_schema(self.contact_type, lambda s: s["properties"]["email"].update(pattern="@example\\.com$"))
        bad = self._partners([{"name": "Nested bad", "email": "n@elsewhere.org"}])
        entries = self.company_type._serialize_collect(self.company)
        # the embedded contact type's own schema is not asked (as before): the company's document is valid
        self.assertIsNone(entries[0][2], entries[0][2])
        self.assertIn("n@elsewhere.org", [c["email"] for c in entries[0][1]["contacts"]])
        self.assertTrue(bad)

    def test_upsert_validates_against_the_current_schema(self):
        self._set_schema(self.contact_type, lambda s: s["properties"]["email"].update(pattern="@example\\.com$"))
        with self.assertRaisesRegex(Exception, "property email"):
            self.contact_type._upsert([{"name": "In", "email": "in@elsewhere.org", "is_company": False,
                                        "country": None, "categories": []}])

    def test_preview_by_an_owning_manager_follows_the_schema_edits(self):
        self.contact_type.owner_id = self.manager
        Preview = self.env["sync.preview"].with_user(self.manager)
        values = {"data_type_id": self.contact_type.id, "record_ref": f"res.partner,{self.contact.id}"}
        self.assertTrue(Preview.create(values).document)
        original = self.contact_type.schema_id.schema
        self._set_schema(self.contact_type, lambda s: s["properties"]["email"].update(pattern="@elsewhere\\.org$"))
        wizard = Preview.create(values)
        self.assertFalse(wizard.document)
        self.assertIn("property email", wizard.error)
        self.assertIn(f"res.partner,{self.contact.id}", wizard.error)
        self.contact_type.schema_id.schema = original
        self.assertTrue(Preview.create(values).document)
        self.contact_type.schema_id = False
        self.assertIn("has no schema", Preview.create(values).error)
