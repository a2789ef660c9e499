import base64
import json

from odoo.tests import tagged

from .common import MappingCase


@tagged("post_install", "-at_install")
class TestSchemaAndExport(MappingCase):
    def test_generated_schema(self):
        schema = self.schema_of(self.company_type)
        self.assertEqual(schema["required"], ["name"])
        self.assertFalse(schema["additionalProperties"])
        props = schema["properties"]
        self.assertEqual(props["is_company"]["type"], "boolean")
        self.assertEqual(props["street"]["type"], ["string", "null"])
        self.assertEqual(props["contacts"]["type"], "array")
        self.assertEqual(props["contacts"]["items"]["properties"]["email"]["type"], ["string", "null"])
        self.assertEqual(props["label"], {"type": "string"})

    def test_suggested_property_names(self):
        line = self.env["sync.mapping.line"].new(
            {"data_type_id": self.contact_type.id, "line_type": "reference", "value": "category_id"}
        )
        line._compute_cardinality()
        line._onchange_suggest_name()
        self.assertEqual(line.cardinality, "2many")
        self.assertEqual(line.name, "categories")
        line = self.env["sync.mapping.line"].new(
            {"data_type_id": self.contact_type.id, "line_type": "reference", "value": "country_id"}
        )
        line._compute_cardinality()
        line._onchange_suggest_name()
        self.assertEqual(line.name, "country")

    def test_preview(self):
        action = self.company_type.action_preview()
        preview = self.env["sync.preview"].with_context(action["context"]).create(
            {"record_ref": f"res.partner,{self.company.id}"}
        )
        self.assertEqual(json.loads(preview.document)["name"], "Azure Interior")
        self.assertFalse(preview.error)
        self.company_type.line_ids.filtered(lambda line: line.name == "shout").value = "record.website.upper()"
        preview.invalidate_recordset()
        self.assertFalse(preview.document)
        self.assertIn("property shout", preview.error)

    def test_export_then_import_gives_the_same_documents(self):
        samples = {"res.partner": self.company | self.contact, "res.country": self.belgium,
                   "res.partner.category": self.vip}
        before = {dt.name: dt._serialize(samples[dt.model_name]) for dt in self.library.data_type_ids}
        wizard = self.env["sync.library.export"].create({"library_id": self.library.id})
        wizard.action_export()
        data = json.loads(base64.b64decode(wizard.file))
        self.assertEqual(data["format"], "sync_mapping.library")
        self.assertEqual({dt["name"] for dt in data["data_types"]}, set(before))
        self.library.data_type_ids.line_ids.unlink()
        self.library.data_type_ids.unlink()
        self.library.schema_ids.unlink()
        self.library.unlink()
        importer = self.env["sync.library.import"].create(
            {"file": base64.b64encode(json.dumps(data).encode()), "filename": "contacts.json"}
        )
        library = self.env["sync.library"].browse(importer.action_import()["res_id"])
        after = {dt.name: dt._serialize(samples[dt.model_name]) for dt in library.data_type_ids}
        self.assertEqual(after, before)
        # importing twice changes nothing
        self.env.flush_all()
        def stamps():
            everything = [library, *library.schema_ids, *library.data_type_ids, *library.data_type_ids.line_ids]
            return {f"{r._name},{r.id}": r.write_date for r in everything}

        before_stamps = stamps()
        line_ids = library.data_type_ids.line_ids.ids
        self.env["sync.library"]._import_config(data)
        self.env.flush_all()
        self.assertEqual(library.data_type_ids.line_ids.ids, line_ids)
        self.assertEqual(stamps(), before_stamps)
        self.assertEqual(library._export_config(), data)

    def test_import_that_changes_a_data_types_model_replaces_its_lines(self):
        library = self.env["sync.library"].create({"name": "Tags", "slug": "tags"})
        tags = self.env["sync.data.type"].create({
            "name": "Tags", "library_id": library.id, "model_id": self.env["ir.model"]._get("res.partner.category").id,
            "line_ids": [(0, 0, {"line_type": "field", "value": "color", "name": "color"})],
        })
        data = library._export_config()
        # the file maps "Tags" onto another model, with lines of that model only
        data["data_types"][0].update(model="res.country", lines=[dict(data["data_types"][0]["lines"][0],
                                                                       value="code", name="code")])
        self.env["sync.library"]._import_config(data)
        self.assertEqual(tags.model_name, "res.country")
        self.assertEqual(tags.line_ids.mapped("value"), ["code"])
