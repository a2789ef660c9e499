from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import QueueCase


@tagged("post_install", "-at_install")
class TestQueueAccess(QueueCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sync_user = mail_new_test_user(cls.env, login="queue_user",
                                           groups="base.group_user,sync_base.group_sync_user")
        cls.manager = mail_new_test_user(cls.env, login="queue_manager",
                                         groups="base.group_user,sync_base.group_sync_manager")
        cls.outsider = mail_new_test_user(cls.env, login="queue_outsider", groups="base.group_user")
        cls.portal = mail_new_test_user(cls.env, login="queue_portal", groups="base.group_portal")

    def _sent(self):
        self.partner.email = "access@example.com"
        self.queue()
        self.send_through_a_failure()  # its attempt log holds the failure
        return self.messages(res_id=self.partner.id)

    def test_outsiders_and_portal_reach_no_queue_model(self):
        message = self._sent()
        for user in (self.outsider, self.portal):
            for model in ("sync.message", "sync.message.attempt", "sync.response", "sync.inbound.message",
                          "sync.change", "sync.system", "sync.data.type", "sync.binding", "sync.inbound.token"):
                with self.subTest(user=user.login, model=model), self.assertRaises(AccessError):
                    self.env[model].with_user(user).search([], limit=1)
            with self.assertRaises(AccessError):
                message.with_user(user).action_retry()

    def test_outsiders_see_no_synchronization_menu_users_see_the_queue(self):
        root = self.env.ref("sync_base.sync_menu_root")
        queue_menus = self.env["ir.ui.menu"].search([("id", "child_of", root.id)])
        visible = self.env["ir.ui.menu"].with_user(self.outsider)._visible_menu_ids()
        self.assertFalse(visible & set(queue_menus.ids))
        visible = self.env["ir.ui.menu"].with_user(self.sync_user)._visible_menu_ids()
        self.assertIn(self.env.ref("sync_queue.sync_message_menu").id, visible)

    def test_sync_users_read_the_queue_and_act_through_its_buttons_only(self):
        message = self._sent()
        as_user = message.with_user(self.sync_user)
        self.assertEqual(as_user.state, "done")
        self.assertTrue(as_user.attempt_ids.with_user(self.sync_user).read(["outcome"]))
        for vals in ({"state": "failed"}, {"envelope": "{}"}, {"last_error": "hidden"}):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                as_user.write(vals)
        message.sudo().write({"state": "failed", "last_error": "refused"})
        as_user.action_retry()
        self.assertEqual(message.state, "retry")
        as_user.action_cancel()
        self.assertEqual(message.state, "cancelled")
        with self.assertRaises(AccessError):
            self.contact_type.with_user(self.sync_user).action_queue_all()
        self.contact_type.with_user(self.manager).action_queue_all()

    def test_nobody_rewrites_a_message_identity_or_envelope(self):
        message = self._sent()
        for vals in ({"envelope": '{"id": "forged"}'}, {"res_id": 1}, {"system_id": self.system.id}):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                message.with_user(self.manager).write(vals)
        message.with_user(self.manager).write({"last_error": "a note"})  # the rest stays editable by managers

    def test_companies_are_kept_apart_down_to_attempts_and_responses(self):
        other_company = self.env["res.company"].create({"name": "Other company"})
        self.system.company_id = other_company
        self.partner.company_id = other_company
        message = self._sent()
        self.assertTrue(message.attempt_ids)
        self.sync_user.write({"company_ids": [(6, 0, self.env.ref("base.main_company").ids)],
                              "company_id": self.env.ref("base.main_company").id})
        Message = self.env["sync.message"].with_user(self.sync_user)
        self.assertFalse(Message.search([("id", "=", message.id)]))
        self.assertFalse(self.env["sync.message.attempt"].with_user(self.sync_user).search(
            [("message_id", "=", message.id)]))
        self.sync_user.write({"company_ids": [(4, other_company.id)]})
        self.assertEqual(Message.with_company(other_company).search([("id", "=", message.id)]), message)
