"""Where a change goes: deletions only where their record went, also when they race its send; coalesced
changes keep their order."""

import logging
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.sync_base.lib import envelope as envelope_lib

from .common import CommittedCase, QueueCase


@tagged("post_install", "-at_install")
class TestRouting(QueueCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_1 = cls.env.ref("base.main_company")
        cls.company_2 = cls.env["res.company"].create({"name": "Second company"})
        System = cls.env["sync.system"]
        cls.system.company_id = cls.company_1
        cls.system_2 = System.create({"name": "Second", "code": "second", "transport": "test",
                                      "company_id": cls.company_2.id})
        cls.contact_type.system_ids = [(4, cls.system_2.id)]
        cls.partner.company_id = cls.company_1
        cls.env.cr.precommit.clear()
        cls.env["sync.change"].search([]).unlink()

    def _sent_to_the_first_system(self):
        """The partner sent and acknowledged: to the company-1 system only; then a system of every company
        joins the data type, which never got the partner."""
        self.partner.email = "sent@example.com"
        self.queue()
        self.assertEqual(self.messages(res_id=self.partner.id).system_id, self.system)
        self.send()
        self.assertEqual(self.messages(res_id=self.partner.id).state, "done")
        late = self.env["sync.system"].create({"name": "Late", "code": "late", "transport": "test"})
        self.contact_type.system_ids = [(4, late.id)]
        return late

    def test_a_deletion_goes_only_where_the_record_went(self):
        self._sent_to_the_first_system()
        never_sent = self.env["res.partner"].create({"name": "Never sent", "company_id": self.company_1.id})
        self.queue()
        partner_id = self.partner.id
        (self.partner | never_sent).unlink()
        self.queue()
        deletions = self.messages(operation="delete")
        self.assertEqual([(m.system_id, m.res_id) for m in deletions], [(self.system, partner_id)],
                         "neither to the company-2 system nor to the one that joined since, nor for a record "
                         "never sent")
        self.assertEqual(set(self.messages(res_id=never_sent.id).mapped("state")), {"cancelled"})

    def test_a_deletion_that_could_not_be_queued_fails_only_where_the_record_went(self):
        self._sent_to_the_first_system()
        partner_id = self.partner.id
        self.partner.unlink()
        Message = type(self.env["sync.message"])
        with patch.object(Message, "_queue_deletions", side_effect=ValueError("no room")), \
                self.assertLogs("odoo.addons.sync_queue.models.sync_message", logging.ERROR):
            self.queue()
        failed = self.messages(res_id=partner_id, operation="delete")
        self.assertEqual((failed.system_id, failed.state), (self.system, "failed"))
        self.assertIn("no room", failed.last_error)

    def test_requeue_of_a_deletion_goes_only_where_the_record_went(self):
        self._sent_to_the_first_system()
        partner_id = self.partner.id
        self.partner.unlink()
        self.queue()
        right = self.messages(res_id=partner_id, operation="delete")
        self.assertEqual(right.system_id, self.system)
        # what an older version queued to a system that never got the record
        wrong = self.env["sync.message"].create({
            "system_id": self.system_2.id, "data_type_id": self.contact_type.id, "model": "res.partner",
            "res_id": partner_id, "operation": "delete", "deletion_info": {"name": "Brandon"},
        })
        (right | wrong).write({"state": "failed", "attempt_count": 1})
        action = (right | wrong).action_requeue()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn(wrong.display_name, action["params"]["message"])
        again = self.messages(res_id=partner_id, operation="delete", state="pending")
        self.assertEqual(again.system_id, self.system)
        self.assertEqual(wrong.state, "failed", "left as it is, not requeued")

    def test_a_record_leaving_the_data_type_is_deleted_only_where_it_went(self):
        self.contact_type.on_leave = "delete"
        self._sent_to_the_first_system()
        self.partner.is_company = True
        self.queue()
        deletions = self.messages(res_id=self.partner.id, operation="delete")
        self.assertEqual(deletions.system_id, self.system)
        self.assertEqual(deletions.deletion_info, {"name": "Brandon"})

    def test_a_record_that_moved_to_another_company_and_left_is_deleted_where_it_is_bound(self):
        self.contact_type.on_leave = "delete"
        self._sent_to_the_first_system()
        self.assertTrue(self.env["sync.binding"].search([("system_id", "=", self.system.id),
                                                         ("res_id", "=", self.partner.id)]))
        # moves to company 2 and leaves the data type: the company-1 system holds it, and gets its deletion
        self.partner.write({"company_id": self.company_2.id, "is_company": True})
        self.queue()
        deletions = self.messages(res_id=self.partner.id, operation="delete")
        self.assertEqual(deletions.system_id, self.system)
        self.send()
        self.assertEqual(deletions.state, "done")

    def test_a_new_parent_of_a_contact_not_sent_yet_goes_first(self):
        company_type = self.env["sync.data.type"].create({
            "name": "Companies", "library_id": self.library.id,
            "model_id": self.env["ir.model"]._get("res.partner").id, "system_ids": [(6, 0, self.system.ids)],
            "domain": "[('is_company', '=', True)]",
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True})],
        })
        company_type.action_generate_schema()
        self.contact_type.line_ids = [(0, 0, {"line_type": "reference", "value": "parent_id", "name": "parent",
                                              "reference_id": company_type.id})]
        self.contact_type.action_generate_schema()
        self.partner.email = "ada@example.com"
        self.queue()
        contact_message = self.messages(res_id=self.partner.id, system_id=self.system.id)
        self.assertFalse(contact_message.reference_keys)
        # before the contact was sent, it gets a new company
        company = self.env["res.partner"].create({"name": "New Co", "is_company": True,
                                                  "company_id": self.company_1.id})
        self.partner.parent_id = company
        self.queue()
        self.assertEqual(self.messages(res_id=self.partner.id, system_id=self.system.id), contact_message,
                         "merged into the message not sent yet")
        self.assertEqual(contact_message.reference_keys, [["res.partner", company.id]])
        self.assertEqual(contact_message.record_name, "New Co, Brandon")
        company_message = self.messages(res_id=company.id)
        self.assertGreater(company_message.id, contact_message.id)
        self.send()
        self.assertEqual((company_message.state, contact_message.state), ("done", "done"))
        calls = self.env["sync.test.transport.call"].search(
            [("message_uuid", "in", (company_message | contact_message).mapped("uuid"))], order="id")
        self.assertEqual(calls.mapped("message_uuid"), [company_message.uuid, contact_message.uuid],
                         "the new company first, its contact after it")
        # the company left again: the contact's message not sent yet no longer waits for it
        self.partner.parent_id = False
        self.queue()
        self.assertFalse(self.messages(res_id=self.partner.id, state="pending").reference_keys)


@tagged("post_install", "-at_install")
class TestDeletionRacingASend(CommittedCase):
    """A record deleted while its upsert is claimed and its envelope being built, in real transactions that
    commit."""

    def setUp(self):
        super().setUp()
        self.partner_id = self.partner_ids[0]

    def test_a_record_deleted_while_its_upsert_is_being_built_is_deleted_after_it(self):
        Message = type(self.env["sync.message"])
        original = Message._freeze_envelopes
        seen = []

        def racing(messages):
            if seen:
                return original(messages)  # the deletion's turn
            # the freeze has read its claimed messages: its snapshot is taken, the record is in it.  Meanwhile a
            # user deletes the record, and the queue turns that into messages, each transaction committed
            self.run_in_cursor(lambda env: env["res.partner"].browse(self.partner_id).unlink())

            def queue(env):
                env["sync.message"]._cron_create_queue()
                env.cr.execute("SELECT operation, state, envelope IS NULL FROM sync_message "
                               "WHERE system_id = %s ORDER BY id", [self.system_id])
                seen.extend(env.cr.fetchall())

            self.run_in_cursor(queue)
            return original(messages)

        with patch.object(Message, "_freeze_envelopes", racing):
            self.run_in_cursor(lambda env: env["sync.message"]._cron_send())

        self.assertEqual(seen, [("upsert", "sending", True), ("delete", "waiting", True)],
                         "the deletion is queued behind the upsert being built")

        def outcome(env):
            messages = env["sync.message"].search([("system_id", "=", self.system_id)], order="id")
            calls = env["sync.test.transport.call"].search([("system_id", "=", self.system_id)], order="id")
            bindings = env["sync.binding"].search([("system_id", "=", self.system_id)])
            return ([(m.operation, m.state) for m in messages], calls.mapped("message_uuid") == messages.mapped("uuid"),
                    [envelope_lib.parse(m.envelope)["payload"] for m in messages], bool(bindings))

        states, in_order, payloads, bound = self.run_in_cursor(outcome)
        self.assertEqual(states, [("upsert", "done"), ("delete", "done")])
        self.assertTrue(in_order, "the upsert went first, the deletion after it")
        self.assertEqual(payloads, [{"name": "Racer"}, {"name": "Racer", "$ref": f"test/{self.partner_id}"}])
        self.assertFalse(bound, "deleted over there: no binding left")
