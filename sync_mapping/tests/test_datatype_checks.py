import json

from odoo.tests import Form, tagged

from .common import MappingCase


@tagged("post_install", "-at_install")
class TestDataTypeChecks(MappingCase):
    """What the admin is told where he works: lines against the schema, the preview's record, the selection."""

    def test_lines_and_a_generated_schema_agree(self):
        for data_type in (self.country_type, self.contact_type, self.company_type):
            self.assertFalse(data_type.schema_warning, data_type.name)

    def test_a_line_the_schema_does_not_allow_is_warned_of_and_regenerating_clears_it(self):
        self.contact_type.write({"line_ids": [(0, 0, {"line_type": "field", "value": "phone", "name": "phone"})]})
        warning = self.contact_type.schema_warning
        self.assertIn("does not allow the properties phone", warning)
        # the company embeds the contacts through a model line: its own schema, generated before, is wrong too
        self.assertIn("does not allow the properties contacts.phone", self.company_type.schema_warning)
        # a warning, not a refusal: the line is saved
        self.assertIn("phone", self.contact_type.line_ids.mapped("name"))
        self.assertIs(self.contact_type.action_regenerate_schema(), True)
        self.assertFalse(self.contact_type.schema_warning)
        self.assertIn("phone", self.schema_of(self.contact_type)["properties"])

    def test_a_required_property_no_line_fills_is_warned_of(self):
        self.country_type.line_ids.filtered(lambda line: line.name == "code").unlink()
        self.assertIn("requires the properties code, which no line fills", self.country_type.schema_warning)

    def test_a_data_type_without_schema_is_warned_of(self):
        data_type = self._data_type("No schema", "res.partner", [("field", "name", "name", {})])
        self.assertIn("has no schema", data_type.schema_warning)
        data_type.action_regenerate_schema()
        self.assertFalse(data_type.schema_warning)

    def test_preview_opens_on_a_record_matching_the_conditions_and_the_domain(self):
        first = self.env["res.partner"].search([], limit=1)
        self.assertNotEqual(first, self.contact)
        self.contact_type.write({
            "domain": "[('email', '=', 'brandon@example.com')]",
            "condition_ids": [(0, 0, {"field_name": "is_company", "operator": "=", "value": "false"})],
        })
        context = self.contact_type.action_preview()["context"]
        self.assertEqual(context["default_record_ref"], f"res.partner,{self.contact.id}")
        self.assertFalse(context["default_notice"])
        preview = self.env["sync.preview"].with_context(context).create({})
        self.assertEqual(json.loads(preview.document)["email"], "brandon@example.com")
        self.assertFalse(preview.selection_note)
        # another record may still be previewed: the preview says it is not sent
        preview.record_ref = f"res.partner,{self.company.id}"
        self.assertIn("does not match the conditions and the domain of Contacts", preview.selection_note)
        self.assertTrue(preview.document)

    def test_preview_says_when_no_record_matches(self):
        # the condition holds for Brandon only, the domain for companies only
        self.contact_type.write({
            "domain": "[('is_company', '=', True)]",
            "condition_ids": [(0, 0, {"field_name": "email", "operator": "=", "value": "brandon@example.com"})],
        })
        context = self.contact_type.action_preview()["context"]
        self.assertFalse(context["default_record_ref"])
        self.assertIn("No record of res.partner that you may read matches the conditions and the domain",
                      context["default_notice"])
        preview = self.env["sync.preview"].with_context(context).create({})
        self.assertIn("matches the conditions", preview.notice)
        self.assertFalse(preview.document)

    def test_preview_shows_the_schema_warning(self):
        self.contact_type.write({"line_ids": [(0, 0, {"line_type": "field", "value": "phone", "name": "phone"})]})
        preview = self.env["sync.preview"].create({"data_type_id": self.contact_type.id,
                                                   "record_ref": f"res.partner,{self.contact.id}"})
        self.assertIn("does not allow the properties phone", preview.schema_warning)
        self.assertIn("does not validate", preview.error)

    def test_the_record_count_of_the_domain_includes_the_conditions(self):
        self.contact_type.write({
            "domain": "[('is_company', '=', True)]",
            "condition_ids": [(0, 0, {"field_name": "name", "operator": "in", "value": "Azure Interior,Nobody"})],
        })
        conditions = json.loads(self.contact_type.condition_domain)
        self.assertEqual(conditions, [["name", "in", ["Azure Interior", "Nobody"]]])
        # what the domain editor counts: the conditions and the domain
        domain = conditions + self.contact_type._get_domain()[len(conditions):]
        self.assertEqual(self.env["res.partner"].search(domain), self.company)
        form = Form(self.contact_type)
        with form.condition_ids.edit(0) as condition:
            condition.value = "Nobody"
        self.assertEqual(json.loads(form.condition_domain), [["name", "in", ["Nobody"]]])

    def test_the_suggested_property_name_and_a_picked_path(self):
        form = Form(self.contact_type)
        with form.line_ids.new() as line:
            line.line_type = "reference"
            line.value = "parent_id"
            self.assertEqual(line.name, "parent")
            line.reference_id = self.company_type
        with form.line_ids.new() as line:
            line.value = "country_id.code"  # the field picker followed a relation
            self.assertEqual(line.line_type, "default")
            self.assertEqual(line.value, "{country_id.code}")
            self.assertEqual(line.name, "country_code")
        form.save()
        line = self.contact_type.line_ids.filtered(lambda line: line.name == "country_code")
        self.assertEqual(line.line_type, "default")
        self.assertFalse(self.contact_type._keeps_field_names())
