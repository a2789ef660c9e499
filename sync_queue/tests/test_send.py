import json
import logging
from datetime import timedelta
from unittest.mock import patch

import psycopg2.errors

from odoo import fields
from odoo.tests import tagged

from odoo.addons.sync_base import compat
from odoo.addons.sync_base.lib import envelope as envelope_lib
from odoo.addons.sync_base.lib.results import TransportResult

from .common import QueueCase


@tagged("post_install", "-at_install")
class TestSend(QueueCase):
    def test_acknowledged_goes_done_with_binding(self):
        message = self._queued()
        self.send()
        self.assertEqual(message.state, "done")
        self.assertTrue(message.acked_at)
        envelope = envelope_lib.parse(message.envelope)
        self.assertEqual(envelope["id"], message.uuid)
        self.assertEqual(envelope["type"], "contacts.res_partner")
        self.assertEqual(envelope["payload"], {"name": "Brandon", "email": "queued@example.com"})
        self.assertEqual(envelope["targets"], ["target"])
        binding = self.env["sync.binding"]._find(self.system, "res.partner", [self.partner.id])
        self.assertEqual(binding[self.partner.id].remote_ref, f"test/{self.partner.id}")
        # the delivered attempt is on the message itself: no attempt row, no response row
        self.assertEqual(message.attempt_count, 1)
        self.assertGreaterEqual(message.send_duration, 0.0)
        self.assertEqual(message.sent_at, message.acked_at)
        self.assertFalse(message.attempt_ids)
        self.assertFalse(message.response_ids)

    def test_each_message_of_a_batch_freezes_its_own_envelope(self):
        partners = self.env["res.partner"].create([{"name": f"Batch {i}", "email": f"{i}@example.com"}
                                                   for i in range(7)])
        self.queue()
        # claimed in due order, frozen in another: each envelope is picked by its message, not by its place
        messages = self.messages(state="pending").filtered(lambda m: m.res_id in partners.ids)
        messages.write({"state": "sending"})
        self.env.flush_all()
        claimed = messages._freeze_claimed(messages.sorted("id", reverse=True).ids)
        self.assertEqual([message_id for message_id, _envelope in claimed], messages.sorted("id", reverse=True).ids)
        messages.write({"state": "pending"})
        self.send()
        self.assertEqual(set(messages.mapped("state")), {"done"})
        for message in messages:
            envelope = envelope_lib.parse(message.envelope)
            partner = self.env["res.partner"].browse(message.res_id)
            self.assertEqual(envelope["id"], message.uuid)
            self.assertEqual(envelope["payload"], {"name": partner.name, "email": partner.email})

    def test_pages_keep_room_for_the_frozen_envelope(self):
        # the envelope is written after the claim: with room on the page, beside the claimed row and without
        # touching the indexes
        self.env.cr.execute("SELECT reloptions FROM pg_class WHERE relname = 'sync_message'")
        self.assertIn("fillfactor=70", self.env.cr.fetchone()[0] or [])

    def test_a_message_created_by_an_addon_is_due_at_once(self):
        message = self.env["sync.message"].create({
            "system_id": self.system.id, "data_type_id": self.contact_type.id, "model": "res.partner",
            "res_id": self.partner.id, "operation": "upsert",
        })
        self.assertTrue(message.next_attempt_at)
        self.send()
        self.assertEqual(message.state, "done")

    def test_accepted_then_acknowledged(self):
        self.system.test_outcome = "accepted"
        message = self._queued()
        self.send()
        self.assertEqual(message.state, "sent")
        ack = {"message_id": message.uuid, "status": "done", "remote_model": "res.partner", "remote_ref": "42"}
        self.assertEqual(self.env["sync.response"]._receive(self.system, ack), "applied")
        self.assertEqual(message.state, "done")
        self.assertEqual(self.env["sync.response"]._receive(self.system, ack), "duplicate")
        self.assertEqual(message.state, "done")
        other = self.env["sync.system"].create({"name": "Other", "code": "other", "transport": "test"})
        self.assertEqual(self.env["sync.response"]._receive(other, ack), "unknown")
        self.assertEqual(len(message.response_ids), 2)

    def test_negative_acknowledgement(self):
        self.system.test_outcome = "accepted"
        message = self._queued()
        self.send()
        self.env["sync.response"]._receive(self.system, {"message_id": message.uuid, "status": "error",
                                                         "permanent": True, "reason": "unknown country"})
        self.assertEqual(message.state, "failed")
        self.assertEqual(message.last_error, "unknown country")

    def test_transient_then_success_on_the_configured_delays(self):
        self.system.test_outcome = "transient"
        message = self._queued()
        before = fields.Datetime.now()
        self.send()
        self.assertEqual(message.state, "retry")
        delay = (message.next_attempt_at - before).total_seconds()
        self.assertAlmostEqual(delay, 60, delta=5)
        envelope = message.envelope
        self.send()  # not due yet
        self.assertEqual(message.attempt_count, 1)
        message.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        self.system.test_outcome = "acknowledged"
        self.send()
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempt_count, 2)
        self.assertEqual(message.envelope, envelope)  # the identical envelope
        calls = self.env["sync.test.transport.call"].search([("message_uuid", "=", message.uuid)])
        self.assertEqual(len(calls), 2)
        self.assertEqual(calls[0].envelope, calls[1].envelope)

    def test_retry_after_is_honoured(self):
        self.system.write({"test_outcome": "transient", "test_retry_after": 1000})
        message = self._queued()
        before = fields.Datetime.now()
        self.send()
        self.assertAlmostEqual((message.next_attempt_at - before).total_seconds(), 1000, delta=5)

    def test_permanent_and_max_attempts(self):
        self.system.test_outcome = "permanent"
        message = self._queued()
        self.send()
        self.assertEqual((message.state, message.last_error), ("failed", "test: refused"))
        self.system.test_outcome = "transient"
        self.partner.email = "again@example.com"
        self.queue()
        second = self.messages(res_id=self.partner.id, state="pending")
        self.assertEqual(message.state, "cancelled")  # superseded
        for _i in range(3):
            second.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
            self.send()
        self.assertEqual(second.state, "failed")
        self.assertIn("after 3 attempts", second.last_error)

    def test_failing_transport_never_raises(self):
        self.system.test_outcome = "raise"
        message = self._queued()
        for _i in range(10):
            message.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
            self.env["sync.message"]._cron_send()
            self.env.invalidate_all()
        self.assertEqual(message.state, "failed")
        self.assertIn("ConnectionError", message.last_error)
        self.assertTrue(self.env.ref("sync_queue.ir_cron_send").active)

    def test_overdue_acknowledgement_resends_the_identical_envelope(self):
        self.system.write({"test_outcome": "accepted", "ack_timeout": 60})
        message = self._queued()
        self.send()
        envelope = message.envelope
        message.sent_at = fields.Datetime.now() - timedelta(seconds=120)
        self.env["sync.message"]._cron_resend()
        self.assertEqual(message.state, "retry")
        self.send()
        self.assertEqual(message.state, "sent")
        calls = self.env["sync.test.transport.call"].search([("message_uuid", "=", message.uuid)])
        self.assertEqual(len(calls), 2)
        self.assertEqual(json.dumps(calls[0].envelope, sort_keys=True), json.dumps(calls[1].envelope, sort_keys=True))
        self.assertEqual(message.envelope, envelope)

    def test_crashed_sending_is_recovered_then_fails_alone(self):
        message = self._queued()
        other = self.env["res.partner"].create({"name": "Other"})
        self.queue()
        crashed = self.messages(res_id=self.partner.id)
        crashed.write({"state": "sending", "lease_until": fields.Datetime.now() - timedelta(seconds=1),
                       "attempt_count": 1, "envelope": False})
        self.env["sync.message"]._cron_resend()
        self.assertEqual((message.state, message.recovered), ("retry", True))
        # the recovered message is tried alone
        claimed = self.env["sync.message"]._claim(self.system, self.env["sync.message"]._settings())
        self.assertEqual([message_id for message_id, _envelope in claimed], message.ids)
        self.env.invalidate_all()
        message.write({"lease_until": fields.Datetime.now() - timedelta(seconds=1), "attempt_count": 3})
        self.env["sync.message"]._cron_resend()
        self.assertEqual(message.state, "failed")
        self.send()
        self.assertEqual(self.messages(res_id=other.id).state, "done")

    def _second_system(self):
        """A second system and data type, sent after the first (systems go in order)."""
        other_system = self.env["sync.system"].create({"name": "Other", "code": "other", "transport": "test"})
        other_type = self.env["sync.data.type"].create({
            "name": "Other contacts", "library_id": self.env["sync.library"].create({"name": "O", "slug": "o"}).id,
            "model_id": self.contact_type.model_id.id, "system_ids": [(6, 0, other_system.ids)],
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True})],
        })
        other_type.action_generate_schema()
        return other_system, other_type

    def test_serialization_runs_after_the_claim_is_committed(self):
        message = self._queued()
        seen = []

        class WorkerKilled(Exception):
            pass

        def killed(messages):
            # what a worker killed here leaves behind: its batch claimed under a lease, attempt counted; each
            # message is recovered when the lease ends and claimed alone, so the culprit fails alone
            messages.env.cr.execute("SELECT state, attempt_count, lease_until IS NOT NULL, envelope IS NULL "
                                    "FROM sync_message WHERE id = %s", [message.id])
            seen.append((messages.env.cr is not self.env.cr, messages.env.cr.fetchone()))
            raise WorkerKilled

        Message = type(self.env["sync.message"])
        with patch.object(Message, "_freeze_envelopes", autospec=True, side_effect=killed), \
                self.assertRaises(WorkerKilled):
            self.env["sync.message"]._claim(self.system, self.env["sync.message"]._settings())
        self.assertEqual(seen, [(True, ("sending", 1, True, True))],
                         "serialized in a transaction of its own, once the claim is done")

    def test_a_data_type_that_cannot_serialize_fails_alone(self):
        other_system, other_type = self._second_system()
        self._queued()
        message = self.messages(system_id=self.system.id)
        other = self.messages(system_id=other_system.id)
        self.assertEqual(len(other), 1)
        DataType = type(self.env["sync.data.type"])
        original = DataType._serialize_collect

        def broken(data_type, records, system=None):
            if data_type == self.contact_type:
                raise ValueError("the schema does not parse")
            return original(data_type, records, system)

        with patch.object(DataType, "_serialize_collect", broken), \
                self.assertLogs("odoo.addons.sync_queue.models.sync_message", "ERROR"):
            self.send()
        self.assertEqual(message.state, "failed")
        self.assertIn("Contacts cannot be serialized: the schema does not parse", message.last_error)
        self.assertEqual(other.state, "done", "the other system's messages go on")
        self.assertNotEqual(other_type, self.contact_type)

    def test_one_system_in_trouble_never_starves_the_others(self):
        other_system, _other_type = self._second_system()
        self._queued()
        other = self.messages(system_id=other_system.id)
        Message = type(self.env["sync.message"])
        original = Message._send_system

        def broken(messages, system, settings, deadline):
            if system == self.system:
                raise RuntimeError("a bug in a transport")
            return original(messages, system, settings, deadline)

        with patch.object(Message, "_send_system", broken), \
                self.assertLogs("odoo.addons.sync_queue.models.sync_message", "ERROR") as logs:
            self.send()
        self.assertIn("Sending to system target failed", logs.output[0])
        self.assertEqual(other.state, "done")

    def test_results_wait_for_the_database_to_come_back(self):
        self.system.test_outcome = "accepted"
        message = self._queued()
        Message = type(self.env["sync.message"])
        original = Message._apply_results
        calls = []

        def flaky(messages, results, duration=0.0, **kwargs):
            calls.append(len(results))
            if len(calls) == 1:
                raise psycopg2.OperationalError("server closed the connection unexpectedly")
            return original(messages, results, duration, **kwargs)

        with patch.object(Message, "_apply_results", flaky), \
                self.assertLogs("odoo.addons.sync_queue.models.sync_message", "WARNING") as logs:
            self.send()
        self.assertEqual(calls, [1, 1])
        self.assertIn("lost the database (server closed the connection unexpectedly); again (1)", logs.output[0])
        self.assertEqual((message.state, message.attempt_count), ("sent", 1), "stored, not sent again")

    def test_a_claim_that_meets_a_concurrent_update_starts_again(self):
        message = self._queued()
        Message = type(self.env["sync.message"])
        original = Message._claim_batch
        calls = []

        def conflicting(messages, system, settings):
            if system == self.system:
                calls.append(system.code)
                if len(calls) == 1:
                    raise psycopg2.errors.SerializationFailure("could not serialize access due to concurrent update")
            return original(messages, system, settings)

        with patch.object(Message, "_claim_batch", conflicting):
            self.send()
        self.assertGreaterEqual(len(calls), 2, "claimed again after the conflict")
        self.assertEqual((message.state, message.attempt_count), ("done", 1))

    def test_order_per_record(self):
        self.system.test_outcome = "transient"
        first = self._queued()
        self.send()
        self.assertEqual(first.state, "retry")
        self.partner.email = "second@example.com"
        self.queue()
        second = self.messages(res_id=self.partner.id, state="waiting")
        self.assertEqual(len(second), 1)
        self.assertIn(first.uuid, second.waiting_reason)
        self.assertIn("same record", second.waiting_reason)
        # a later change coalesces into the waiting message: it was never sent
        self.partner.email = "third@example.com"
        self.queue()
        self.assertEqual(self.messages(res_id=self.partner.id), first | second)
        self.system.test_outcome = "acknowledged"
        self.send()
        self.assertEqual(second.state, "waiting")  # held back by the first, still in retry
        first.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        self.send()
        self.assertEqual((first.state, second.state), ("done", "done"))
        self.assertFalse(second.waiting_reason)
        self.assertEqual(envelope_lib.parse(second.envelope)["payload"]["email"], "third@example.com")

    def test_replies_of_the_transport_land_in_the_response_queue_when_they_hold_more_than_the_message(self):
        message = self._queued()
        self.send()
        # an acknowledgement in the call: the message (done, acknowledged) and its binding hold all of it
        self.assertEqual((message.state, bool(message.acked_at)), ("done", True))
        self.assertFalse(message.response_ids)
        self.assertEqual(self.env["sync.binding"]._find(self.system, "res.partner", [self.partner.id])[
            self.partner.id].remote_ref, f"test/{self.partner.id}")
        # the same answer again for an attempt that is over (a late answer): kept, as a duplicate, in both logs
        message._apply_results([TransportResult.acknowledged("res.partner", "test/late")], 0.2,
                               attempts={message.id: 0})
        self.env.invalidate_all()
        response = message.response_ids
        self.assertEqual(len(response), 1)
        self.assertEqual((response.status, response.result, response.channel, response.system_id),
                         ("done", "duplicate", "transport", self.system))
        self.assertEqual((response.message_uuid, response.remote_ref), (message.uuid, "test/late"))
        self.assertEqual(response.body["message_id"], message.uuid)
        self.assertEqual(message.attempt_ids.mapped("outcome"), ["acknowledged"])
        self.assertEqual(message.state, "done")
        self.assertEqual(self.env["sync.binding"]._find(self.system, "res.partner", [self.partner.id])[
            self.partner.id].remote_ref, f"test/{self.partner.id}")  # a late answer binds nothing
        self.system.test_outcome = "permanent"
        self.partner.email = "refused@example.com"
        self.queue()
        refused = self.messages(res_id=self.partner.id, state="pending")
        self.send()
        self.assertEqual(refused.state, "failed")
        self.assertEqual((refused.response_ids.status, refused.response_ids.permanent), ("error", True))
        self.assertEqual((refused.response_ids.result, refused.response_ids.reason), ("applied", "test: refused"))
        self.assertEqual(refused.attempt_ids.mapped("outcome"), ["permanent"])
        # a transient failure is no reply of the receiver: the attempt log has it, the response queue not
        self.system.test_outcome = "transient"
        self.partner.email = "later@example.com"
        self.queue()
        later = self.messages(res_id=self.partner.id, state="pending")
        self.send()
        self.assertEqual(later.state, "retry")
        self.assertFalse(later.response_ids)
        self.assertEqual(later.attempt_ids.mapped("outcome"), ["transient"])
        # a posted acknowledgement is stored once, as posted
        self.system.test_outcome = "accepted"
        later.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        self.send()
        self.assertFalse(later.response_ids)
        self.assertEqual(later.state, "sent")
        duration = later.send_duration
        self.env["sync.response"]._receive(self.system, {"message_id": later.uuid, "status": "done"})
        self.assertEqual(later.response_ids.mapped("channel"), ["endpoint"])
        self.assertEqual((later.state, later.send_duration), ("done", duration))  # the call's, kept
        # the failure and the accepted delivery are attempts; the posted acknowledgement is the response's
        self.assertEqual(later.attempt_ids.mapped("outcome"), ["accepted", "transient"])

    def test_requeue_goes_to_the_same_system_only(self):
        other = self.env["sync.system"].create({"name": "Other", "code": "other", "transport": "test"})
        self.contact_type.system_ids = [(4, other.id)]
        self.system.test_outcome = "permanent"
        other.test_outcome = "acknowledged"
        self._queued()
        self.send()
        failed = self.messages(res_id=self.partner.id, system_id=self.system.id)
        self.assertEqual(failed.state, "failed")
        self.system.test_outcome = "acknowledged"
        failed.action_requeue()
        self.assertEqual(failed.state, "cancelled")
        self.assertEqual(len(self.messages(res_id=self.partner.id, system_id=other.id)), 1)
        fresh = self.messages(res_id=self.partner.id, system_id=self.system.id, state="pending")
        self.assertEqual(len(fresh), 1)
        # a message never claimed is built when it goes: requeueing it keeps it, due now
        fresh.action_requeue()
        self.assertEqual(fresh.state, "pending")
        self.assertEqual(len(self.messages(res_id=self.partner.id, system_id=self.system.id, state="pending")), 1)
        self.send()
        self.assertEqual(fresh.state, "done")
        # a system the data type no longer targets gets nothing, and the message stays as it is
        self.contact_type.system_ids = [(3, self.system.id)]
        action = fresh.action_requeue()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertEqual(fresh.state, "done")
        self.assertEqual(len(self.messages(res_id=self.partner.id, system_id=self.system.id)), 2)

    def test_bulk_actions_of_the_list(self):
        """The list's buttons act on a selection, for synchronization users too (read-only on messages)."""
        arch = self.env["sync.message"].get_view(view_type="list")["arch"]
        for name in ("action_retry", "action_requeue", "action_cancel"):
            self.assertIn(f'name="{name}"', arch)
        user = self.env["res.users"].create({
            "name": "Queue user", "login": "queue_user_bulk",
            compat.GROUP_IDS: [(6, 0, [
                self.env.ref("base.group_user").id, self.env.ref("sync_base.group_sync_user").id,
            ])],
        })
        self.system.test_outcome = "permanent"
        second = self.env["res.partner"].create({"name": "Second", "email": "s@example.com"})
        self._queued()
        self.send()
        # the user's own partner is a contact too: left out
        failed = self.messages(state="failed").filtered(lambda m: m.res_id in (self.partner | second).ids)
        self.assertEqual(set(failed.mapped("res_id")), {self.partner.id, second.id})
        as_user = failed.with_user(user)
        as_user.action_retry()
        self.assertEqual(set(failed.mapped("state")), {"retry"})
        as_user.action_cancel()
        self.assertEqual(set(failed.mapped("state")), {"cancelled"})
        second.unlink()
        # one record is gone: the other is requeued, and the answer says which could not be
        action = as_user.action_requeue()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertEqual(self.messages(state="pending").mapped("res_id"), [self.partner.id])

    def test_requeue_of_a_failed_deletion_queues_the_deletion_again(self):
        self._queued()
        self.send()
        partner_id = self.partner.id
        self.partner.unlink()
        self.queue()
        deletion = self.messages(res_id=partner_id, operation="delete")
        deletion.write({"state": "failed", "last_error": "refused"})
        deletion.action_requeue()
        again = self.messages(res_id=partner_id, operation="delete", state="pending")
        self.assertEqual(len(again), 1)
        self.assertEqual(again.deletion_info, deletion.deletion_info)
        self.send()
        self.assertEqual(again.state, "done")
        self.assertEqual(envelope_lib.parse(again.envelope)["payload"].get("name"), "Brandon")

    def test_requeue_of_a_record_that_is_gone_says_so(self):
        self.system.test_outcome = "transient"
        message = self._queued()
        self.send()
        self.assertEqual(message.state, "retry")
        self.partner.unlink()
        action = message.action_requeue()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn(message.display_name, action["params"]["message"])
        self.assertEqual(message.state, "retry")

    def test_send_now_sends_the_due_messages_of_the_system(self):
        message = self._queued()
        action = self.system.action_send_now()
        self.env.invalidate_all()
        self.assertEqual(message.state, "done")
        self.assertEqual(action["params"]["type"], "success")
        self.system.paused = True
        self.assertEqual(self.system.action_send_now()["params"]["type"], "warning")

    def test_a_claim_reads_past_a_window_of_held_back_messages(self):
        """Candidates are read a window at a time (twice the batch): a window of later messages of records
        whose first message waits for its retry must not hide a message free to go behind it."""
        self.system.batch_size = 1
        Message = self.env["sync.message"]
        later = fields.Datetime.now() + timedelta(hours=1)
        partners = self.env["res.partner"].create([{"name": f"Held {i}"} for i in range(3)])
        self.queue()
        self.messages().unlink()
        vals = {"system_id": self.system.id, "data_type_id": self.contact_type.id, "model": "res.partner",
                "operation": "upsert"}
        for partner in partners[:2]:
            first = Message.create(dict(vals, res_id=partner.id))
            first.write({"state": "retry", "next_attempt_at": later})
            Message.create(dict(vals, res_id=partner.id, operation="delete"))
        free = Message.create(dict(vals, res_id=partners[2].id))
        self.send()
        self.assertEqual(free.state, "done")
        self.assertEqual(set(self.messages(state="retry").mapped("res_id")), set(partners[:2].ids))
        self.assertFalse(self.messages(state="done") - free)

    def test_an_old_queue_alerts_the_managers_once_even_when_paused(self):
        self.env["ir.config_parameter"].sudo().set_param("sync_queue.alert_pending_minutes", 30)
        self.system.paused = True
        message = self._queued()
        message.env.cr.execute("UPDATE sync_message SET create_date = now() at time zone 'utc' - interval '2 hours' "
                               "WHERE id = %s", [message.id])
        message.invalidate_recordset()

        def notes():
            return self.system.message_ids.filtered(lambda m: "waits since" in (m.body or ""))

        self.send()
        self.assertEqual(message.state, "pending")
        self.assertEqual(len(notes()), 1)
        self.assertRegex(str(notes().body), r"waits since (119|120) minutes")
        self.send()
        self.assertEqual(len(notes()), 1)  # not again within the hour

    def test_a_run_that_spends_its_budget_wakes_its_cron_again(self):
        self.env["ir.config_parameter"].sudo().set_param("sync_queue.send_time_budget", 1)
        self.system.write({"batch_size": 1, "test_delay": 1.2})
        other = self.env["res.partner"].create({"name": "Other", "email": "o@example.com"})
        self._queued()
        messages = self.messages()
        self.assertEqual(set(messages.mapped("res_id")), {self.partner.id, other.id})
        cron = self.env.ref("sync_queue.ir_cron_send")
        Trigger = self.env["ir.cron.trigger"].sudo()
        Trigger.search([("cron_id", "=", cron.id)]).unlink()
        progress = self.env["ir.cron.progress"].sudo().create({"cron_id": cron.id})
        as_cron = self.env["sync.message"].with_context(cron_id=cron.id, ir_cron_progress_id=progress.id)
        as_cron._cron_send()
        self.env.invalidate_all()
        self.assertEqual(sorted(messages.mapped("state")), ["done", "pending"])
        # woken again in a run of its own, never "remaining" work that Odoo would run in the same worker
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), 1)
        self.assertEqual((progress.done, progress.remaining), (1, 0))
        self.system.test_delay = 0
        Trigger.search([("cron_id", "=", cron.id)]).unlink()
        as_cron._cron_send()
        self.env.invalidate_all()
        self.assertEqual(messages.mapped("state"), ["done", "done"])
        self.assertFalse(Trigger.search_count([("cron_id", "=", cron.id)]))

    def test_a_late_result_of_an_earlier_attempt_moves_nothing(self):
        message = self._queued()
        Message, settings = self.env["sync.message"], self.env["sync.message"]._settings()
        first = Message._claim(self.system, settings)
        self.assertEqual([message_id for message_id, _envelope in first], message.ids)
        # its worker outlived the lease: recovered, and claimed again by another worker
        self.env.invalidate_all()
        message.write({"lease_until": fields.Datetime.now() - timedelta(seconds=1)})
        Message._cron_resend()
        second = Message._claim(self.system, settings)
        self.assertEqual(second.attempts, {message.id: 2})
        # the first worker's answer arrives late: it is no answer to the attempt on the network now
        Message._store_results(message.ids, [TransportResult.transient("late")], 1.0, attempts=first.attempts)
        self.env.invalidate_all()
        self.assertEqual((message.state, message.attempt_count), ("sending", 2))
        Message._store_results(message.ids, [TransportResult.acknowledged()], 1.0, attempts=second.attempts)
        self.env.invalidate_all()
        self.assertEqual(message.state, "done")

    def test_queue_all_wakes_the_senders(self):
        cron = self.env.ref("sync_queue.ir_cron_send")
        Trigger = self.env["ir.cron.trigger"].sudo()
        Trigger.search([]).unlink()
        self.contact_type.action_queue_all()
        self.assertTrue(self.messages(res_id=self.partner.id))
        # sent right after the commit, not at the schedulers' next run
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), 1)

    def test_paused_system_sends_nothing(self):
        self.system.paused = True
        message = self._queued()
        self.send()
        self.assertEqual(message.state, "pending")

    def test_deletion_carries_primary_values(self):
        message = self._queued()
        self.send()
        self.assertEqual(message.state, "done")
        partner_id = self.partner.id
        self.partner.unlink()
        self.queue()
        deletion = self.messages(res_id=partner_id, operation="delete")
        self.send()
        self.assertEqual(deletion.state, "done")
        envelope = envelope_lib.parse(deletion.envelope)
        self.assertEqual(envelope["operation"], "delete")
        self.assertEqual(envelope["payload"], {"name": "Brandon", "$ref": f"test/{partner_id}"})
        self.assertFalse(self.env["sync.binding"]._find(self.system, "res.partner", [partner_id]))

    def test_user_actions(self):
        self.system.test_outcome = "permanent"
        message = self._queued()
        self.send()
        self.system.test_outcome = "acknowledged"
        message.action_retry()
        self.send()
        self.assertEqual(message.state, "done")
        message.action_requeue()
        self.assertEqual(len(self.messages(res_id=self.partner.id, state="pending")), 1)
        self.messages(res_id=self.partner.id, state="pending").action_cancel()
        self.assertFalse(self.messages(res_id=self.partner.id, state="pending"))

    def _cycle_of_references(self):
        """The messages of a parent and its child, each referencing the other."""
        self.contact_type.line_ids = [(0, 0, {"line_type": "reference", "value": "parent_id", "name": "parent"}),
                                      (0, 0, {"line_type": "reference", "value": "child_ids", "name": "children"})]
        self.contact_type.action_generate_schema()
        parent = self.env["res.partner"].create({"name": "Parent person"})
        child = self.env["res.partner"].create({"name": "Child person", "parent_id": parent.id})
        self.queue()
        return self.messages(res_id=parent.id) | self.messages(res_id=child.id)

    def test_a_cycle_whose_worker_died_goes_together_again(self):
        messages = self._cycle_of_references()
        Message = self.env["sync.message"]
        # claimed together, then the worker dies: both are left under a lease, recovered when it ends
        Message._claim(self.system, Message._settings())
        self.env.invalidate_all()
        self.assertEqual(messages.mapped("state"), ["sending", "sending"])
        messages.write({"lease_until": fields.Datetime.now() - timedelta(seconds=1)})
        Message._cron_resend()
        self.assertEqual(messages.mapped("recovered"), [True, True])
        # claimed alone, each would wait for the other for ever: the recovered members of the cycle go together
        for _round in range(2):
            self.send()
            messages.filtered(lambda m: m.state == "waiting").write(
                {"next_attempt_at": fields.Datetime.now() - timedelta(seconds=1)})
        self.assertEqual(messages.mapped("state"), ["done", "done"])
        self.assertEqual(messages.mapped("attempt_count"), [2, 2])

    def test_reference_order_and_cycles(self):
        company = self._company_referenced_by_contacts()
        company_message = self.messages(res_id=company.id)
        self.system.test_outcome = "transient"
        self.send()
        self.assertEqual(company_message.state, "retry")
        contact = self.env["res.partner"].create({"name": "Child", "parent_id": company.id})
        self.queue()
        contact_message = self.messages(res_id=contact.id)
        self.system.test_outcome = "acknowledged"
        self.send()
        self.assertEqual(contact_message.state, "waiting")
        self.assertIn(company_message.uuid, contact_message.waiting_reason)
        company_message.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        contact_message.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        self.send()
        self.assertEqual((company_message.state, contact_message.state), ("done", "done"))
        calls = self.env["sync.test.transport.call"].search([("message_uuid", "in", (company_message
                                                             | contact_message).mapped("uuid"))])
        # the company went first, its contact after it
        self.assertEqual(calls.filtered(lambda c: c.outcome == "acknowledged").mapped("message_uuid"),
                         [company_message.uuid, contact_message.uuid])

    def test_a_cycle_straddling_the_end_of_a_batch_goes_together(self):
        self.system.batch_size = 1
        messages = self._cycle_of_references()
        self.send()
        self.assertEqual(messages.mapped("state"), ["done", "done"])
        self.assertEqual(messages.mapped("attempt_count"), [1, 1])
        self.assertEqual(len(set(messages.mapped("acked_at"))), 1)

    def test_a_held_message_retried_by_hand_never_blocks_its_system(self):
        company = self._company_referenced_by_contacts()
        self.system.test_outcome = "transient"
        self.send()
        contact = self.env["res.partner"].create({"name": "Child", "parent_id": company.id})
        self.queue()
        held = self.messages(res_id=contact.id)
        self.send()
        self.assertEqual((held.state, held.attempt_count), ("waiting", 0))
        held.action_retry()
        self.assertEqual(held.state, "waiting")
        contact.email = "changed@example.com"
        self.queue()
        self.assertEqual(self.messages(res_id=contact.id), held)  # merged into it: never claimed
        # held again, without a unique violation that would roll back every claim of the system
        with self.assertNoLogs("odoo.addons.sync_queue.models.sync_message", logging.ERROR):
            self.send()
        self.assertEqual(held.state, "waiting")
        self.system.test_outcome = "acknowledged"
        self.messages(res_id=company.id).next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        held.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        self.send()
        self.assertEqual(held.state, "done")

    def test_a_cycle_goes_together(self):
        messages = self._cycle_of_references()
        self.assertEqual(messages[0].reference_keys, [["res.partner", messages[1].res_id]])
        self.send()
        self.assertEqual(messages.mapped("state"), ["done", "done"])
        # in one batch, neither held back: one attempt each, stored together
        self.assertEqual(messages.mapped("attempt_count"), [1, 1])
        self.assertEqual(len(set(messages.mapped("acked_at"))), 1)
        self.assertEqual(messages.mapped("waiting_reason"), [False, False])

    def test_synchronize_now_and_dashboard(self):
        action = self.env["ir.actions.server"].search(
            [("name", "=", "Synchronize now"), ("model_id.model", "=", "res.partner")]
        )
        self.assertEqual(len(action), 1)
        self.assertEqual(action.binding_model_id.model, "res.partner")
        result = action.with_context(active_model="res.partner", active_ids=self.partner.ids).run()
        self.assertEqual(result["params"]["type"], "success")
        self.assertEqual(len(self.messages(res_id=self.partner.id, state="pending")), 1)
        self.assertEqual(self.system.queue_pending_count, 1)
        self.system.test_outcome = "permanent"
        self.send()
        self.system.invalidate_recordset()
        self.assertEqual((self.system.queue_pending_count, self.system.queue_failed_count), (0, 1))
        self.assertEqual(self.system.queue_last_error, "test: refused")
        # one note per system and run, not one per message
        notes = self.system.message_ids.filtered(lambda m: "failed" in (m.body or ""))
        self.assertEqual(len(notes), 1)
        self.send()
        self.assertEqual(len(self.system.message_ids.filtered(lambda m: "failed" in (m.body or ""))), 1)
