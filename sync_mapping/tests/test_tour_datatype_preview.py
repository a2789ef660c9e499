import unittest

from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestDataTypePreviewTour(HttpCase):
    """In Chromium: the domain's count includes the conditions, and the preview opens on a record that is sent."""

    def test_preview_opens_on_a_matching_record(self):
        Partner = self.env["res.partner"]
        target = Partner.create({"name": "Zz Tour Preview Target", "is_company": True})
        Partner.create({"name": "Zz Tour Preview Decoy", "is_company": True})
        first = Partner.search([], limit=1)
        self.assertNotEqual(first, target, "the model's first record must not be the one the data type selects")
        self.assertGreater(Partner.search_count([("is_company", "=", True)]), 1)
        library = self.env["sync.library"].create({"name": "Tour Preview", "slug": "tour_preview"})
        data_type = self.env["sync.data.type"].create({
            "name": "Tour Preview Companies", "library_id": library.id,
            "model_id": self.env["ir.model"]._get("res.partner").id,
            "domain": "[('is_company', '=', True)]",
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True})],
            "condition_ids": [(0, 0, {"field_name": "name", "operator": "in",
                                      "value": "Zz Tour Preview Target,Nobody Here"})],
        })
        data_type.action_generate_schema()
        try:
            self.start_tour("/odoo/action-sync_mapping.sync_data_type_action", "sync_datatype_preview_tour",
                            login="admin", timeout=120)
        except unittest.SkipTest as exc:
            self.fail(f"Tour sync_datatype_preview_tour could not run in a browser ({exc}).")
