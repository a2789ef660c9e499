from odoo.tests import tagged

from .common import ActionViewsMixin, SyncCase


@tagged("post_install", "-at_install")
class TestViews(ActionViewsMixin, SyncCase):
    def test_action_views_open(self):
        self.assert_action_views_open("sync_base")

    def test_settings_show_own_code(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.sync_own_code, self.env["sync.system"]._get_own_code())
        settings.sync_own_code = "erp_main"
        settings.execute()
        self.assertEqual(self.env["sync.system"]._get_own_code(), "erp_main")
