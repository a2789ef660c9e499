import json
import unittest

from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestDataTypePickerTour(HttpCase):
    """In Chromium: a data type made with the field picker, the schema warning, and the schema regenerated."""

    def test_admin_picks_fields_and_regenerates_the_schema(self):
        library = self.env["sync.library"].create({"name": "Tour Picker", "slug": "tour_picker"})
        schema = self.env["sync.schema"].create({
            "library_id": library.id, "name": "Names Only", "slug": "names_only",
            "schema": json.dumps({"type": "object", "properties": {"name": {"type": "string"}},
                                  "additionalProperties": False}),
        })
        # Odoo skips a tour it cannot run (no Chromium, no websocket-client): here that is a failure
        try:
            self.start_tour("/odoo/action-sync_mapping.sync_data_type_action", "sync_datatype_picker_tour",
                            login="admin", timeout=180)
        except unittest.SkipTest as exc:
            self.fail(f"Tour sync_datatype_picker_tour could not run in a browser ({exc}).")
        data_type = self.env["sync.data.type"].search([("name", "=", "Tour Picked Contacts")])
        self.assertEqual(data_type.schema_id, schema)
        self.assertEqual([(line.line_type, line.value, line.name) for line in data_type.line_ids],
                         [("field", "name", "name"), ("default", "{country_id.code}", "country_code")])
        self.assertIn("country_code", json.loads(schema.schema)["properties"])
        self.assertFalse(data_type.schema_warning)
