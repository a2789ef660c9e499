"""A record that leaves its data type and comes back before anything went: its last change wins."""

from odoo.tests import tagged

from .common import QueueCase


@tagged("post_install", "-at_install")
class TestLeaveAndComeBack(QueueCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.contact_type.on_leave = "delete"

    def _sent(self):
        self.partner.email = "sent@example.com"
        self.queue()
        self.send()
        self.assertEqual(self.messages(res_id=self.partner.id).mapped("state"), ["done"])

    def _last_operation_delivered(self):
        """The operation of the last envelope of the partner the transport was handed."""
        self.send()
        self.send()
        calls = self.env["sync.test.transport.call"].search([("system_id", "=", self.system.id)], order="id")
        mine = [call.envelope["operation"] for call in calls if call.envelope["record"]["id"] == self.partner.id]
        self.assertFalse(self.messages(res_id=self.partner.id).filtered(
            lambda m: m.state not in ("done", "cancelled")), "everything went")
        return mine[-1]

    def test_a_record_that_leaves_and_comes_back_before_sending_ends_upserted(self):
        self._sent()
        self.partner.email = "changed@example.com"
        self.queue()
        self.partner.is_company = True  # leaves: its deletion is owed
        self.queue()
        self.partner.is_company = False  # back before anything went
        self.queue()
        self.assertEqual(self._last_operation_delivered(), "upsert",
                         "a record that matches is not deleted on the other side at the end")

    def test_a_record_that_leaves_comes_back_and_leaves_again_ends_deleted(self):
        self._sent()
        self.partner.is_company = True
        self.queue()
        self.partner.is_company = False
        self.queue()
        self.partner.is_company = True
        self.queue()
        self.assertEqual(self._last_operation_delivered(), "delete",
                         "a record that left is not re-created on the other side at the end")

    def test_an_upsert_not_sent_yet_of_a_record_that_leaves_is_cancelled(self):
        self.partner.email = "new@example.com"
        self.queue()
        upsert = self.messages(res_id=self.partner.id)
        self.partner.is_company = True
        self.queue()
        self.assertEqual(upsert.state, "cancelled")
        # never sent anywhere: no deletion owed either
        self.assertFalse(self.messages(res_id=self.partner.id, operation="delete"))

    def test_requeue_of_an_upsert_of_a_record_that_left_sends_nothing(self):
        self._sent()
        upsert = self.messages(res_id=self.partner.id)
        self.partner.is_company = True
        self.queue()
        self.send()
        self.assertEqual(self.messages(res_id=self.partner.id, operation="delete").state, "done")
        action = upsert.action_requeue()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertFalse(self.messages(res_id=self.partner.id, operation="upsert").filtered(
            lambda m: m.state == "pending"), "a record that left the data type is not sent again by hand")
