from odoo.tests import TransactionCase, tagged

from odoo.addons.sync_base.tests.common import ActionViewsMixin


@tagged("post_install", "-at_install")
class TestMenus(ActionViewsMixin, TransactionCase):
    def test_queue_menus_under_queue(self):
        queue = self.env.ref("sync_base.sync_menu_queue")
        outgoing = self.env.ref("sync_queue.sync_queue_outgoing_menu")
        incoming = self.env.ref("sync_queue.sync_queue_incoming_menu")
        self.assertEqual((outgoing | incoming).parent_id, queue)
        self.assertEqual(self.env.ref("sync_queue.sync_message_menu").parent_id, outgoing)
        self.assertEqual(self.env.ref("sync_queue.sync_inbound_message_menu").parent_id, incoming)

    def test_action_views_open(self):
        self.assert_action_views_open("sync_queue")

    def test_crons_exist_with_their_ids(self):
        for xmlid in ("ir_cron_create_queue", "ir_cron_send", "ir_cron_send_2", "ir_cron_send_3", "ir_cron_send_4",
                      "ir_cron_resend", "ir_cron_vacuum"):
            self.assertTrue(self.env.ref(f"sync_queue.{xmlid}"))
        active = [self.env.ref(f"sync_queue.{x}").active for x in ("ir_cron_send", "ir_cron_send_2",
                                                                     "ir_cron_send_3", "ir_cron_send_4")]
        self.assertEqual(active, [True, True, False, False])
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.sync_send_workers, 2)
        settings.sync_send_workers = 4
        settings.execute()
        self.assertTrue(self.env.ref("sync_queue.ir_cron_send_4").active)
