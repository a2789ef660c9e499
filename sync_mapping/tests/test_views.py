from odoo.tests import tagged

from odoo.addons.sync_base.tests.common import ActionViewsMixin

from .common import MappingCase


@tagged("post_install", "-at_install")
class TestViews(ActionViewsMixin, MappingCase):
    def test_action_views_open(self):
        self.assert_action_views_open("sync_mapping")

    def test_smart_buttons(self):
        self.assertEqual(self.library.schema_count, 4)
        self.assertEqual(self.library.data_type_count, 4)
        action = self.library.action_view_data_types()
        self.assertEqual(self.env["sync.data.type"].search(action["domain"]), self.library.data_type_ids)
        action = self.company_type.schema_id.action_view_data_types()
        self.assertEqual(self.env["sync.data.type"].search(action["domain"]), self.company_type)

    def test_inline_models_have_views(self):
        for model in ("sync.mapping.line", "sync.condition"):
            views = self.env[model].get_views([(False, "list"), (False, "form"), (False, "search")])
            self.assertEqual(set(views["views"]), {"list", "form", "search"}, model)
