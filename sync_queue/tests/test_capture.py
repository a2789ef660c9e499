import warnings
from contextlib import suppress
from unittest.mock import patch

import psycopg2.errors

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import QueueCase


@tagged("post_install", "-at_install")
class TestCapture(QueueCase):
    def test_rolled_back_leaves_nothing(self):
        with self.assertRaises(ZeroDivisionError), self.env.cr.savepoint():  # what a rollback does
            self.partner.email = "new@example.com"
            self.env.flush_all()
            raise ZeroDivisionError
        self.assertFalse(self.changes())

    def test_committed_leaves_one_change(self):
        self.partner.email = "new@example.com"
        self.commit()
        changes = self.changes()
        self.assertEqual(len(changes), 1)
        self.assertEqual((changes.model, changes.res_id, changes.operation), ("res.partner", self.partner.id, "write"))

    def test_a_change_wakes_the_queue_scheduler_once_per_transaction(self):
        cron = self.env.ref("sync_queue.ir_cron_create_queue")
        Trigger = self.env["ir.cron.trigger"].sudo()
        before = Trigger.search_count([("cron_id", "=", cron.id)])
        self.partner.email = "one@example.com"
        self.partner.email = "two@example.com"
        self.env["res.partner"].create({"name": "Another"})
        self.commit()
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before + 1)
        self.partner.email = "three@example.com"
        self.commit()
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before + 2)

    def test_the_scheduler_reports_its_progress_to_the_cron_runner_without_a_warning(self):
        cron = self.env.ref("sync_queue.ir_cron_create_queue")
        progress = self.env["ir.cron.progress"].sudo().create({"cron_id": cron.id, "remaining": 0, "done": 0})
        self.partner.email = "progress@example.com"
        self.commit()
        with warnings.catch_warnings():
            # 19.0 deprecates ir.cron._notify_progress with a warning on every call: the suite must not call it there
            warnings.simplefilter("error", DeprecationWarning)
            self.env["sync.message"].with_context(ir_cron_progress_id=progress.id, cron_id=cron.id)._cron_create_queue()
        self.assertEqual((progress.done, progress.remaining), (1, 0))
        self.assertEqual(len(self.messages()), 1)

    def test_ten_writes_one_message(self):
        for i in range(10):
            self.partner.email = f"v{i}@example.com"
        self.queue()
        self.assertEqual(len(self.messages()), 1)
        self.partner.email = "again@example.com"
        self.queue()
        # coalesced with the message that has not been sent yet
        self.assertEqual(len(self.messages()), 1)

    def test_queued_message_columns(self):
        """Messages are inserted in one statement: every column the ORM would have set is there."""
        company = self.env["res.company"].create({"name": "Second company"})
        self.system.company_id = self.env.company
        parent = self.env["res.partner"].create({"name": "Azure", "is_company": True})
        self.partner.write({"parent_id": parent.id, "email": "columns@example.com"})
        second = self.system.copy({"code": "target_2", "company_id": company.id})
        self.contact_type.system_ids = [(4, second.id)]
        other = self.env["res.partner"].create({"name": "Other", "company_id": company.id})
        self.queue()
        self.assertEqual(self.messages(res_id=self.partner.id).system_id, self.system | second)
        message = self.messages(res_id=self.partner.id, system_id=self.system.id)
        self.assertEqual(message.record_name, "Azure, Brandon")
        self.assertEqual((message.state, message.attempt_count, message.operation), ("pending", 0, "upsert"))
        self.assertEqual(message.company_id, self.env.company)
        self.assertEqual((message.create_uid, message.write_uid), (self.env.user, self.env.user))
        self.assertTrue(message.create_date and message.uuid)
        self.assertFalse(message.envelope)
        other_messages = self.messages(res_id=other.id)
        self.assertEqual(other_messages.system_id, second, "a record of one company never reaches another's system")
        self.assertEqual(other_messages.company_id, company)
        self.assertNotEqual(other_messages.uuid, message.uuid)

    def test_unmapped_field_is_not_captured(self):
        self.partner.comment = "not mapped"
        self.commit()
        self.assertFalse(self.changes())

    def test_condition_field_is_captured(self):
        self.partner.is_company = True  # read by the domain
        self.commit()
        self.assertEqual(len(self.changes()), 1)

    def test_create_then_delete_before_sending_produces_nothing(self):
        partner = self.env["res.partner"].create({"name": "Ephemeral"})
        self.queue()
        self.assertEqual(len(self.messages(res_id=partner.id)), 1)
        partner.unlink()
        self.queue()
        messages = self.messages(res_id=partner.id)
        self.assertEqual(messages.mapped("state"), ["cancelled"])
        self.assertFalse(messages.filtered(lambda m: m.operation == "delete"))

    def test_domain_is_checked_when_queueing(self):
        company = self.env["res.partner"].create({"name": "Company", "is_company": True})
        self.queue()
        self.assertFalse(self.messages(res_id=company.id))

    def test_burst_of_writes_coalesces(self):
        partners = self.env["res.partner"].create([{"name": f"Burst {i}"} for i in range(100)])
        self.queue()
        self.env["sync.message"].search([]).write({"state": "done"})
        for round_ in range(100):
            for partner in partners:
                partner.email = f"{round_}@example.com"  # 10,000 writes in one transaction
        self.queue()
        pending = self.messages(state="pending")
        self.assertEqual(len(pending), 100)
        self.assertEqual(set(pending.mapped("res_id")), set(partners.ids))

    def test_unsent_messages_keep_the_names_of_their_own_records(self):
        partners = self.env["res.partner"].create([{"name": f"Before {i}"} for i in range(6)])
        self.queue()
        for partner in partners[::-1]:
            partner.name = f"After {partner.id}"
        self.queue()
        pending = self.messages(state="pending").filtered(lambda m: m.res_id in partners.ids)
        self.assertEqual(len(pending), 6, "one unsent message per record, refreshed")
        self.assertEqual({m.res_id: m.record_name for m in pending}, {p.id: f"After {p.id}" for p in partners})

    def test_configuration_change_is_followed_without_restart(self):
        self.partner.phone = "+32 2 000"
        self.commit()
        self.assertFalse(self.changes())
        self.contact_type.line_ids = [(0, 0, {"line_type": "field", "value": "phone", "name": "phone"})]
        self.partner.phone = "+32 2 111"
        self.commit()
        self.assertEqual(len(self.changes()), 1)

    def test_embedded_child_change_queues_the_parent(self):
        company_type = self.env["sync.data.type"].create({
            "name": "Companies", "library_id": self.library.id,
            "model_id": self.env["ir.model"]._get("res.partner").id, "system_ids": [(6, 0, self.system.ids)],
            "trigger": "on_write", "domain": "[('is_company', '=', True)]",
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True}),
                         (0, 0, {"line_type": "model", "value": "child_ids", "name": "contacts",
                                 "reference_id": self.contact_type.id})],
        })
        company_type.action_generate_schema()
        company = self.env["res.partner"].create({"name": "Parent Co", "is_company": True})
        child = self.env["res.partner"].create({"name": "Kid", "parent_id": company.id})
        self.queue()
        self.env["sync.message"].search([]).write({"state": "done"})
        child.email = "kid@example.com"
        self.queue()
        self.assertEqual(len(self.messages(data_type_id=company_type.id, res_id=company.id, state="pending")), 1)

    def test_recomputed_stored_field_is_captured(self):
        self.contact_type.line_ids = [(0, 0, {"line_type": "field", "value": "commercial_company_name",
                                              "name": "company"})]
        company = self.env["res.partner"].create({"name": "Old Name", "is_company": True})
        self.partner.parent_id = company
        self.queue()
        self.env["sync.message"].search([]).write({"state": "done"})
        company.name = "New Name"  # recomputes the contact's commercial_company_name
        self.commit()
        self.assertIn(self.partner.id, self.changes().mapped("res_id"))
        self.assertEqual(self.partner.commercial_company_name, "New Name")

    def test_a_concurrency_error_while_queueing_puts_the_changes_back(self):
        self.partner.email = "conflict@example.com"
        self.commit()
        self.assertEqual(len(self.changes()), 1)
        Message = type(self.env["sync.message"])
        conflict = psycopg2.errors.SerializationFailure("conflict")
        # the cron's transaction rolls back: here, to a savepoint around the call
        with patch.object(Message, "_queue_change", side_effect=conflict), \
                self.assertRaises(psycopg2.errors.SerializationFailure), self.env.cr.savepoint():
            self.env["sync.message"]._cron_create_queue()
        self.env.invalidate_all()
        self.assertEqual(len(self.changes()), 1, "the change is still to be queued")
        self.assertFalse(self.messages())
        self.env["sync.message"]._cron_create_queue()
        self.assertEqual(len(self.messages(state="pending")), 1)

    def test_a_change_that_cannot_be_queued_is_a_failed_message_not_lost(self):
        companies = self.env["sync.data.type"].create({
            "name": "Companies", "library_id": self.library.id, "model_id": self.contact_type.model_id.id,
            "system_ids": [(6, 0, self.system.ids)],
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True})],
        })
        companies.action_generate_schema()
        self.partner.email = "broken@example.com"
        self.commit()
        DataType = type(self.env["sync.data.type"])
        original = DataType._filter_matching

        def broken(data_type, records):
            if data_type == companies:
                raise ValueError("the domain reads a field that is gone")
            return original(data_type, records)

        with patch.object(DataType, "_filter_matching", broken), \
                self.assertLogs("odoo.addons.sync_queue.models.sync_message", "ERROR"):
            self.env["sync.message"]._cron_create_queue()
        self.env.invalidate_all()
        self.assertFalse(self.changes())
        self.assertEqual(len(self.messages(data_type_id=self.contact_type.id, state="pending")), 1,
                         "the other data type queued as usual")
        failed = self.messages(data_type_id=companies.id)
        self.assertEqual((len(failed), failed.state, failed.res_id), (1, "failed", self.partner.id))
        self.assertIn("could not be queued: the domain reads a field that is gone", failed.last_error)
        failed.action_retry()
        self.send()
        self.assertEqual(failed.state, "done", "retried once mended, it is serialized and sent")

    def test_a_record_queued_twice_at_once_is_one_message(self):
        vals = {"system_id": self.system.id, "data_type_id": self.contact_type.id, "model": "res.partner",
                "res_id": self.partner.id, "operation": "upsert"}
        Message = self.env["sync.message"]
        # what two transactions that both found no unsent message insert: the second insert adds nothing
        self.assertEqual(Message._insert_messages([vals]), 1)
        self.assertEqual(Message._insert_messages([vals, {**vals, "operation": "delete"}]), 1)
        self.assertEqual(len(self.messages(res_id=self.partner.id, operation="upsert")), 1)
        self.assertEqual(len(self.messages(res_id=self.partner.id, operation="delete")), 1)


@tagged("post_install", "-at_install")
class TestCapturePaths(QueueCase):
    """Every path a change can take reaches the outbox, in the statement's transaction and savepoint.

    Savepoints are rolled back with ``suppress``, not ``assertRaises``: Odoo's
    ``assertRaises`` opens a flushing savepoint of its own, whose rollback
    clears what a savepoint without flush would have kept.
    """

    def company_type(self):
        company_type = self.env["sync.data.type"].create({
            "name": "Companies", "library_id": self.library.id,
            "model_id": self.env["ir.model"]._get("res.partner").id, "system_ids": [(6, 0, self.system.ids)],
            "trigger": "on_write", "domain": "[('is_company', '=', True)]",
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True}),
                         (0, 0, {"line_type": "model", "value": "child_ids", "name": "contacts",
                                 "reference_id": self.contact_type.id})],
        })
        company_type.action_generate_schema()
        return company_type

    def test_a_many2many_written_from_the_other_side_is_a_change_of_the_records_it_holds(self):
        self.contact_type.line_ids = [(0, 0, {"line_type": "field", "value": "category_id", "name": "tags"})]
        tag = self.env["res.partner.category"].create({"name": "VIP"})
        other = self.env["res.partner"].create({"name": "Other"})
        self.commit()
        self.changes().unlink()
        # the tag's partners are the partners' tags: one relation table, written from the tag
        tag.write({"partner_ids": [(4, self.partner.id)]})
        self.assertEqual(self.changed(operation="write"), {self.partner.id})
        self.changes().unlink()
        tag.write({"partner_ids": [(6, 0, other.ids)]})
        self.assertEqual(self.changed(operation="write"), {self.partner.id, other.id}, "the one that lost it too")
        self.changes().unlink()
        self.env["res.partner.category"].create({"name": "New", "partner_ids": [(4, self.partner.id)]})
        self.assertEqual(self.changed(operation="write"), {self.partner.id})
        self.changes().unlink()
        tag.name = "VIP Gold"  # not a change of the partners' documents
        self.assertFalse(self.changed())

    def changed(self, model="res.partner", operation=None):
        self.commit()
        changes = self.changes().filtered(lambda c: c.model == model and operation in (None, c.operation))
        return set(changes.mapped("res_id"))

    def test_moving_a_child_requeues_the_parent_it_leaves(self):
        self.company_type()
        x, y = self.env["res.partner"].create([{"name": "X", "is_company": True}, {"name": "Y", "is_company": True}])
        self.partner.parent_id = x
        self.commit()
        self.changes().unlink()
        self.partner.parent_id = y
        self.assertLessEqual({x.id, y.id, self.partner.id}, self.changed())

    def test_a_related_field_is_captured_when_what_it_follows_changes(self):
        self.contact_type.line_ids = [(0, 0, {"line_type": "field", "value": "country_code", "name": "country"})]
        country = self.env["res.country"].create({"name": "Syldavia", "code": "XS"})
        self.partner.country_id = country
        self.commit()
        self.changes().unlink()
        country.code = "XY"
        self.assertEqual(self.changed(), {self.partner.id})

    def test_a_line_whose_changes_cannot_be_seen_is_refused(self):
        # a non-stored compute that declares no dependency at all
        field = next(f for f in self.env["res.partner"]._fields.values()
                     if not f.store and f.compute and not self.registry.field_depends.get(f))
        with self.assertRaisesRegex(ValidationError, "cannot be synchronized on change"):
            self.contact_type.line_ids = [(0, 0, {"line_type": "field", "value": field.name, "name": "x"})]
        manual = self.contact_type.copy({"name": "Manual contacts", "trigger": "manual"})
        manual.line_ids = [(0, 0, {"line_type": "field", "value": field.name, "name": "x"})]
        with self.assertRaisesRegex(ValidationError, "cannot be synchronized on change"):
            manual.trigger = "on_write"

    def test_a_deletion_by_the_database_cascade_is_captured(self):
        banks = self.env["sync.data.type"].create({
            "name": "Bank accounts", "library_id": self.library.id,
            "model_id": self.env["ir.model"]._get("res.partner.bank").id, "system_ids": [(6, 0, self.system.ids)],
            "sync_deletion": True,
            "line_ids": [(0, 0, {"line_type": "field", "value": "acc_number", "name": "number", "primary": True})],
        })
        banks.action_generate_schema()
        owner = self.env["res.partner"].create({"name": "Owner", "is_company": True})
        bank = self.env["res.partner.bank"].create({"acc_number": "BE71096123456769", "partner_id": owner.id})
        self.commit()
        self.changes().unlink()
        owner.unlink()
        self.assertFalse(bank.exists())
        self.assertEqual(self.changed("res.partner.bank", "unlink"), {bank.id})
        change = self.changes().filtered(lambda c: c.model == "res.partner.bank")
        self.assertEqual(change.payload, {str(banks.id): {"number": "BE71096123456769"}})

    def test_a_rolled_back_savepoint_rolls_back_its_captured_changes(self):
        for flush in (False, True):
            with self.subTest(flush=flush):
                partner = self.env["res.partner"].create({"name": f"Kept {flush}"})
                self.commit()
                self.changes().unlink()
                with suppress(ZeroDivisionError), self.env.cr.savepoint(flush=flush):
                    partner.unlink()
                    self.env["res.partner"].create({"name": "Never"})
                    raise ZeroDivisionError
                self.assertTrue(partner.exists())
                with suppress(ZeroDivisionError), self.env.cr.savepoint(flush=flush):
                    partner.email = "never@example.com"
                    self.env.flush_all()
                    raise ZeroDivisionError
                self.env.invalidate_all()
                self.assertNotEqual(partner.email, "never@example.com")
                self.assertFalse(self.changed(), "nothing survived, nothing is sent")
                with self.env.cr.savepoint(flush=flush):
                    partner.email = "kept@example.com"
                self.assertEqual(self.changed(operation="write"), {partner.id}, "a released savepoint keeps it")

    def test_a_write_in_a_rolled_back_savepoint_is_captured_exactly_when_it_reaches_the_database(self):
        # without flush, a write that stays in the cache is written (and so captured) at the next flush, one
        # that was flushed inside the savepoint is rolled back with it: whichever Odoo did, the capture agrees
        with suppress(ZeroDivisionError), self.env.cr.savepoint(flush=False):
            self.partner.email = "later@example.com"
            raise ZeroDivisionError
        captured = bool(self.changed())
        self.env.invalidate_all()
        self.assertEqual(captured, self.partner.email == "later@example.com")

    def bank_type(self):
        banks = self.env["sync.data.type"].create({
            "name": "Bank accounts", "library_id": self.library.id,
            "model_id": self.env["ir.model"]._get("res.partner.bank").id, "system_ids": [(6, 0, self.system.ids)],
            "sync_deletion": True,
            "line_ids": [(0, 0, {"line_type": "field", "value": "acc_number", "name": "number", "primary": True})],
        })
        banks.action_generate_schema()
        return banks

    def test_a_deletion_in_a_rolled_back_savepoint_is_not_captured(self):
        self.bank_type()
        for flush in (False, True):
            with self.subTest(flush=flush):
                bank = self.env["res.partner.bank"].create({"acc_number": f"NO{flush}", "partner_id": self.partner.id})
                self.commit()
                self.changes().unlink()
                with suppress(ZeroDivisionError), self.env.cr.savepoint(flush=flush):
                    bank.unlink()
                    raise ZeroDivisionError
                self.assertTrue(bank.exists())
                self.assertFalse(self.changed("res.partner.bank"), "the account is still there")

    def test_a_creation_in_a_rolled_back_savepoint_is_not_captured(self):
        self.bank_type()
        for flush in (False, True):
            with self.subTest(flush=flush):
                self.commit()
                self.changes().unlink()
                with suppress(ZeroDivisionError), self.env.cr.savepoint(flush=flush):
                    self.env["res.partner.bank"].create({"acc_number": f"GONE{flush}", "partner_id": self.partner.id})
                    raise ZeroDivisionError
                self.assertFalse(self.changed("res.partner.bank"))


@tagged("post_install", "-at_install")
class TestCaptureFollowsPathsAndRelations(QueueCase):
    """A template's dotted path and a many2many field see the changes the database makes on the other side."""

    def test_a_template_path_is_captured_when_the_record_it_leads_to_changes(self):
        self.contact_type.line_ids = [(0, 0, {"line_type": "default", "value": "{country_id.code}-{parent_id.ref}",
                                              "name": "where"})]
        country = self.env["res.country"].create({"name": "Syldavia", "code": "XS"})
        company = self.env["res.partner"].create({"name": "Klow Works", "is_company": True, "ref": "KW"})
        self.partner.write({"country_id": country.id, "parent_id": company.id})
        self.commit()
        self.changes().unlink()
        country.code = "XY"
        # every record the path leads from: the contact, and on 19.0 its company too, which Odoo gives the
        # contact's address when it has none of its own
        with_country = self.env["res.partner"].search([("country_id", "=", country.id)])
        self.assertIn(self.partner, with_country)
        self.assertEqual(self.changed(), set(with_country.ids))
        self.changes().unlink()
        company.ref = "KW2"
        self.assertEqual(self.changed(), {self.partner.id})
        self.changes().unlink()
        country.name = "Borduria"  # not shown
        self.assertFalse(self.changed())

    def test_deleting_a_tag_is_a_change_of_the_records_that_had_it(self):
        self.contact_type.line_ids = [(0, 0, {"line_type": "field", "value": "category_id", "name": "tags"})]
        tag, kept = self.env["res.partner.category"].create([{"name": "Gone"}, {"name": "Kept"}])
        self.partner.category_id = tag | kept
        untagged = self.env["res.partner"].create({"name": "Untagged", "category_id": [(6, 0, kept.ids)]})
        self.commit()
        self.changes().unlink()
        tag.unlink()
        self.assertEqual(self.changed(operation="write"), {self.partner.id})
        self.assertNotIn(untagged.id, self.changed())

    def changed(self, model="res.partner", operation=None):
        self.commit()
        changes = self.changes().filtered(lambda c: c.model == model and operation in (None, c.operation))
        return set(changes.mapped("res_id"))
