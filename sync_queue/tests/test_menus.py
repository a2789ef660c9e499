from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestMenus(TransactionCase):
    def test_queue_menus_under_queue(self):
        queue = self.env.ref("sync_base.sync_menu_queue")
        outgoing = self.env.ref("sync_queue.sync_queue_outgoing_menu")
        incoming = self.env.ref("sync_queue.sync_queue_incoming_menu")
        self.assertEqual((outgoing | incoming).parent_id, queue)
        self.assertLess(outgoing.sequence, incoming.sequence)
