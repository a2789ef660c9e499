from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestMenus(TransactionCase):
    def test_mappings_menu_under_configuration(self):
        menu = self.env.ref("sync_mapping.sync_mapping_menu")
        self.assertEqual(menu.parent_id, self.env.ref("sync_base.sync_menu_configuration"))
        self.assertEqual(menu.complete_name, "Synchronization/Configuration/Mappings")
