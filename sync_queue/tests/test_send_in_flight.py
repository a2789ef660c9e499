"""Sending with fewer rows per message and batches in flight: what is kept, and order (the attack of issue 29)."""

import threading
import time
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.sync_base.lib import envelope as envelope_lib
from odoo.addons.sync_base.lib.results import TransportResult

from .common import QueueCase


@tagged("post_install", "-at_install")
class TestSendInFlight(QueueCase):
    def _due_now(self):
        self.env["sync.message"].search([("state", "in", ("retry", "waiting", "pending"))]).write(
            {"next_attempt_at": fields.Datetime.now() - timedelta(seconds=1)})
        self.env.invalidate_all()

    # ------------------------------------------------------------------
    # Nothing that mattered is gone
    # ------------------------------------------------------------------
    def test_an_overdue_acknowledgement_resent_and_acknowledged_leaves_a_trace(self):
        """Accepted, no acknowledgement within ack_timeout, sent again, acknowledged: the envelope went
        twice.  Before 24c030b the attempt log said so (accepted, acknowledged)."""
        self.system.write({"test_outcome": "accepted", "ack_timeout": 60})
        message = self._queued()
        self.send()
        self.assertEqual(message.state, "sent")
        message.sent_at = fields.Datetime.now() - timedelta(seconds=120)
        self.env["sync.message"]._cron_resend()
        self.assertEqual(message.state, "retry")
        self.assertTrue(message.last_error)  # "No acknowledgement in time: sent again."
        self.system.test_outcome = "acknowledged"
        self.send()
        self.assertEqual((message.state, message.attempt_count), ("done", 2))
        calls = self.env["sync.test.transport.call"].search([("message_uuid", "=", message.uuid)])
        self.assertEqual(len(calls), 2)  # delivered twice
        # the attempt log says it went twice, and why (the delivery cleared last_error)
        self.assertEqual([(a.outcome, a.error or False) for a in message.attempt_ids.sorted("id")], [
            ("accepted", False), ("transient", "No acknowledgement in time."), ("acknowledged", False)])

    def test_a_recovered_message_delivered_keeps_its_recovery_visible(self):
        message = self._queued()
        Message, settings = self.env["sync.message"], self.env["sync.message"]._settings()
        Message._claim(self.system, settings)
        self.env.invalidate_all()
        message.write({"lease_until": fields.Datetime.now() - timedelta(seconds=1)})
        Message._cron_resend()
        self.assertEqual((message.state, message.recovered), ("retry", True))
        self.send()
        self.assertEqual((message.state, message.attempt_count), ("done", 2))
        self.assertEqual([(a.outcome, a.error or False) for a in message.attempt_ids.sorted("id")], [
            ("transient", "Its worker stopped while sending it."),
            ("acknowledged", False)])

    def test_a_late_accepted_answer_after_recovery_is_recorded_and_moves_nothing(self):
        message = self._queued()
        Message, settings = self.env["sync.message"], self.env["sync.message"]._settings()
        first = Message._claim(self.system, settings)
        self.env.invalidate_all()
        message.write({"lease_until": fields.Datetime.now() - timedelta(seconds=1)})
        Message._cron_resend()
        second = Message._claim(self.system, settings)
        for result in (TransportResult.accepted(), TransportResult.acknowledged("res.partner", "late/1")):
            Message._store_results(message.ids, [result], 1.0, attempts=first.attempts)
        self.env.invalidate_all()
        self.assertEqual((message.state, message.attempt_count), ("sending", 2))
        self.assertEqual(message.attempt_ids.mapped("outcome"), ["acknowledged", "accepted", "transient"])
        self.assertEqual(message.response_ids.mapped("result"), ["duplicate"])
        self.assertFalse(self.env["sync.binding"].search([("remote_ref", "=", "late/1")]))
        Message._store_results(message.ids, [TransportResult.acknowledged("res.partner", "x/1")], 2.0,
                               attempts=second.attempts)
        self.env.invalidate_all()
        self.assertEqual(message.state, "done")
        self.assertAlmostEqual(message.send_duration, 2.0)

    def test_send_duration_survives_a_posted_acknowledgement_and_a_posted_transient_error(self):
        self.system.test_outcome = "accepted"
        message = self._queued()
        self.send()
        duration = message.send_duration
        self.assertEqual(message.state, "sent")
        Response = self.env["sync.response"]
        self.assertEqual(Response._receive(self.system, {"message_id": message.uuid, "status": "error",
                                                         "reason": "busy"}), "applied")
        self.assertEqual(message.state, "retry")
        # the posted error is in the attempt log, beside the accepted delivery
        self.assertEqual(message.attempt_ids.mapped("error"), ["busy", False])
        self.assertEqual(Response._receive(self.system, {"message_id": message.uuid, "status": "done"}), "applied")
        self.assertEqual((message.state, message.send_duration), ("done", duration))

    def test_an_in_call_acknowledgement_after_a_posted_one_is_a_visible_duplicate(self):
        message = self._queued()
        Message, settings = self.env["sync.message"], self.env["sync.message"]._settings()
        claimed = Message._claim(self.system, settings)
        self.env.invalidate_all()
        self.env["sync.response"]._receive(self.system, {"message_id": message.uuid, "status": "done"})
        self.assertEqual(message.state, "done")
        Message._store_results(message.ids, [TransportResult.acknowledged("res.partner", "r/1")], 1.0,
                               attempts=claimed.attempts)
        self.env.invalidate_all()
        self.assertEqual(message.attempt_ids.mapped("outcome"), ["acknowledged"])
        self.assertEqual(sorted(message.response_ids.mapped("channel")), ["endpoint", "transport"])

    # ------------------------------------------------------------------
    # batches_in_flight: range and rights
    # ------------------------------------------------------------------
    def test_batches_in_flight_range_and_rights(self):
        for bad in (0, -1, 9, 10 ** 6):
            with self.subTest(bad=bad), self.assertRaises(ValidationError), self.env.cr.savepoint():
                self.system.batches_in_flight = bad
                self.system.flush_recordset()
        manager = mail_new_test_user(self.env, login="bif_manager",
                                     groups="base.group_user,sync_base.group_sync_manager")
        user = mail_new_test_user(self.env, login="bif_user", groups="base.group_user,sync_base.group_sync_user")
        self.system.with_user(manager).batches_in_flight = 8
        self.assertEqual(self.system.batches_in_flight, 8)
        with self.assertRaises(AccessError):
            self.system.with_user(user).batches_in_flight = 1
        with self.assertRaises(ValidationError):
            self.system.with_user(manager).write({"batches_in_flight": 0})

    # ------------------------------------------------------------------
    # _bind_many
    # ------------------------------------------------------------------
    def test_bind_many_edges(self):
        Binding = self.env["sync.binding"].sudo()
        a, b, c = self.env["res.partner"].create([{"name": "A"}, {"name": "B"}, {"name": "C"}])
        # duplicate local keys and remote refs in one batch, int and str refs: the last row of each wins
        Binding._bind_many(self.system, [
            ("res.partner", a.id, "res.partner", 1),
            ("res.partner", a.id, "res.partner", "2"),
            ("res.partner", b.id, "res.partner", "2"),
            ("res.partner", c.id, "res.partner", 3),
        ])
        found = Binding._find(self.system, "res.partner", [a.id, b.id, c.id])
        self.assertEqual({k: v.remote_ref for k, v in found.items()}, {b.id: "2", c.id: "3"})
        # swap: a remote record moving between local records in one batch
        Binding._bind_many(self.system, [("res.partner", b.id, "res.partner", "3"),
                                         ("res.partner", c.id, "res.partner", "2")])
        found = Binding._find(self.system, "res.partner", [b.id, c.id])
        self.assertEqual({k: v.remote_ref for k, v in found.items()}, {b.id: "3", c.id: "2"})
        # a large batch
        many = self.env["res.partner"].create([{"name": f"P{i}"} for i in range(1500)])
        Binding._bind_many(self.system, [("res.partner", p.id, "res.partner", f"m/{p.id}") for p in many])
        self.assertEqual(Binding.search_count([("system_id", "=", self.system.id), ("remote_ref", "like", "m/")]),
                         1500)

    # ------------------------------------------------------------------
    # Order with batches in flight
    # ------------------------------------------------------------------
    def _deferred(self, plan):
        """Patch a deferred test transport: each call takes the next ``(outcome, delay)`` of ``plan``
        (default acknowledged at once) in the queue's worker thread; return the log of calls."""
        log, lock = [], threading.Lock()
        Transport = type(self.env["sync.transport"])

        def send_deferred(this, system, envelopes):
            if system.transport != "test":
                return None
            outcome, delay = plan.pop(0) if plan else ("acknowledged", 0.0)
            sent = [dict(e) for e in envelopes]

            def deliver():
                start = time.monotonic()
                time.sleep(delay)
                with lock:
                    log.append((start, time.monotonic(), sent, outcome))
                if outcome == "raise":
                    raise ConnectionError("down for this batch")
                if outcome == "transient":
                    return [TransportResult.transient("busy")] * len(sent)
                return [TransportResult.acknowledged(e["record"]["model"], f"t/{e['record']['id']}") for e in sent]

            return deliver

        return log, patch.object(Transport, "_send_deferred", send_deferred, create=True)

    def _check_log(self, log, messages):
        """No record in two overlapping calls, no reference across overlapping calls, each record's
        messages acknowledged in id order."""
        by_uuid = {m.uuid: m for m in messages}
        overlaps = 0
        for i, (s1, e1, sent1, _o1) in enumerate(log):
            for s2, e2, sent2, _o2 in log[i + 1:]:
                if s1 < e2 and s2 < e1:
                    overlaps += 1
                    keys1 = {(e["record"]["model"], e["record"]["id"]) for e in sent1}
                    keys2 = {(e["record"]["model"], e["record"]["id"]) for e in sent2}
                    self.assertFalse(keys1 & keys2, "one record in two batches on the network at once")
                    refs1 = {tuple(k) for e in sent1 for k in (by_uuid[e["id"]].reference_keys or [])}
                    refs2 = {tuple(k) for e in sent2 for k in (by_uuid[e["id"]].reference_keys or [])}
                    self.assertFalse(refs1 & keys2 or refs2 & keys1, "a reference crossing batches in flight")
        acked = [e["id"] for _s, _e, sent, outcome in sorted(log, key=lambda r: r[0]) if outcome == "acknowledged"
                 for e in sent]
        for key in {(m.model, m.res_id) for m in messages}:
            ids = [by_uuid[u].id for u in acked if (by_uuid[u].model, by_uuid[u].res_id) == key]
            self.assertEqual(ids, sorted(ids), f"messages of {key} acknowledged out of order")
        for _s, _e, sent, _o in log:
            for e in sent:
                self.assertEqual(envelope_lib.dumps(e), by_uuid[e["id"]].envelope)
        return overlaps

    def test_order_holds_with_batches_in_flight_and_a_failing_batch(self):
        self.system.write({"batch_size": 1, "batches_in_flight": 2})
        company = self._company_referenced_by_contacts()
        contacts = self.env["res.partner"].create([{"name": f"C{i}", "parent_id": company.id} for i in range(3)])
        loners = self.env["res.partner"].create([{"name": f"L{i}"} for i in range(4)])
        self.queue()
        Message = self.env["sync.message"]
        # later messages of a loner and of the company, made as an addon would (due at once)
        extra = Message.create([{
            "system_id": self.system.id, "data_type_id": self.contact_type.id, "model": "res.partner",
            "res_id": loners[0].id, "operation": "delete"}])
        # the company's batch fails slowly, others succeed beside it; one batch raises
        log, patcher = self._deferred([("transient", 0.4), ("acknowledged", 0.1), ("raise", 0.2)])
        with patcher:
            for _round in range(6):
                self.send()
                self._due_now()
        messages = Message.search([("system_id", "=", self.system.id)])
        self.assertEqual(set(messages.mapped("state")), {"done"}, messages.mapped(lambda m: (m.id, m.state)))
        self.assertTrue(self._check_log(log, messages), "no two batches were ever on the network at once")
        # the batch that raised left its reason in the attempt log
        self.assertIn("ConnectionError: down for this batch", messages.attempt_ids.mapped("error"))
        self.assertTrue(extra.attempt_count)
        self.assertTrue(contacts and loners)

    def test_a_deletion_never_goes_beside_a_document_that_references_its_record(self):
        """A contact referencing its company is on the network; the company is deleted meanwhile.  Its deletion
        waits until the contact's upsert is answered: sent beside it, in another batch in flight, the receiver
        could apply it first, and the contact's parent would be a record it no longer has."""
        self.system.write({"batch_size": 1, "batches_in_flight": 2})
        company = self._company_referenced_by_contacts()
        self.env["sync.data.type"].search([("name", "=", "Companies")]).sync_deletion = True
        self.send()  # the company is there, bound
        contact = self.env["res.partner"].create({"name": "Child", "parent_id": company.id})
        self.queue()
        upsert = self.messages(res_id=contact.id)
        self.assertEqual(upsert.reference_keys, [["res.partner", company.id]])
        test = self
        deleted = []
        log, patcher = self._deferred([("acknowledged", 0.5)])
        Transport = type(self.env["sync.transport"])
        patcher.start()
        self.addCleanup(patcher.stop)
        deferred = Transport._send_deferred

        def delete_company_once(this, system, envelopes):
            deliver = deferred(this, system, envelopes)
            if not deleted:
                # the user deletes the company while the contact's upsert is on the network
                deleted.append(True)
                company.child_ids.write({"parent_id": False})
                company.unlink()
                test.queue()
            return deliver

        with patch.object(Transport, "_send_deferred", delete_company_once):
            self.send()
        # one deletion per data type that sent the company (both map partners)
        deletions = self.messages(res_id=company.id, operation="delete")
        self.assertTrue(deletions)
        self.assertEqual(upsert.state, "done")
        sent = {e["id"] for _s, _e, batch, _o in log for e in batch}
        for deletion in deletions:
            self.assertEqual(deletion.state, "waiting")
            self.assertNotIn(deletion.uuid, sent)
        # the first held while the contact's upsert was on the network, saying for what (a second one waits for
        # the first, an earlier message of the same record)
        self.assertIn(upsert.uuid, deletions.sorted("id")[0].waiting_reason)
        self.assertIn("references this record", deletions.sorted("id")[0].waiting_reason)
        self._due_now()
        self.send()
        self.assertEqual(set(deletions.mapped("state")), {"done"})
        calls = {e["id"]: (start, end) for start, end, batch, _o in log for e in batch}
        for deletion in deletions:
            self.assertGreaterEqual(calls[deletion.uuid][0], calls[upsert.uuid][1],
                                    "the company's deletion went after the contact's upsert that references it")

    # ------------------------------------------------------------------
    # The second attack: rows that tell what did not happen, deletions before the documents referencing them
    # ------------------------------------------------------------------
    def test_an_overdue_acknowledgement_posted_before_the_resend_leaves_no_resend_in_the_log(self):
        self.system.write({"test_outcome": "accepted", "ack_timeout": 60})
        message = self._queued()
        self.send()
        message.sent_at = fields.Datetime.now() - timedelta(seconds=120)
        self.env["sync.message"]._cron_resend()
        self.assertEqual(message.state, "retry")
        # the receiver's acknowledgement arrives before the send cron runs again
        self.assertEqual(self.env["sync.response"]._receive(
            self.system, {"message_id": message.uuid, "status": "done"}), "applied")
        self.env.invalidate_all()
        self.assertEqual(message.state, "done")
        self.assertEqual(len(self.env["sync.test.transport.call"].search([("message_uuid", "=", message.uuid)])), 1)
        # what became of the attempt, not a send that never happened
        self.assertEqual([(a.outcome, a.error or False) for a in message.attempt_ids.sorted("id")],
                         [("accepted", False), ("transient", "No acknowledgement in time.")])
        self.assertEqual(message.response_ids.mapped("channel"), ["endpoint"])

    def _contact_of_a_deleted_company(self, outcome):
        """A contact's upsert referencing its company, sent with ``outcome``; then the company deleted and its
        deletions queued: ``(upsert, deletions)``."""
        company = self._company_referenced_by_contacts()
        self.env["sync.data.type"].search([("name", "=", "Companies")]).sync_deletion = True
        self.send()
        contact = self.env["res.partner"].create({"name": "Child", "parent_id": company.id})
        self.queue()
        upsert = self.messages(res_id=contact.id)
        self.system.test_outcome = outcome
        self.send()
        self.assertIn("parent", upsert.envelope)
        self.system.test_outcome = "acknowledged"
        company.child_ids.write({"parent_id": False})
        company.unlink()
        self.queue()
        deletions = self.messages(res_id=company.id, operation="delete")
        self.assertTrue(deletions)
        return upsert, deletions

    def test_a_deletion_goes_after_a_retried_document_referencing_its_record(self):
        self.system.write({"batch_size": 10, "batches_in_flight": 2})
        upsert, deletions = self._contact_of_a_deleted_company("transient")
        self.assertEqual(upsert.state, "retry")
        before = self.env["sync.test.transport.call"].search([])
        for _round in range(3):
            self._due_now()
            self.send()
        order = (self.env["sync.test.transport.call"].search([], order="id") - before).mapped("message_uuid")
        self.assertEqual(upsert.state, "done")
        self.assertEqual(set(deletions.mapped("state")), {"done"})
        for deletion in deletions:
            self.assertGreater(order.index(deletion.uuid), order.index(upsert.uuid),
                               "the company's deletion went before the contact's document that references it")

    def test_a_deletion_waits_for_an_accepted_document_referencing_its_record(self):
        self.system.write({"batch_size": 1, "batches_in_flight": 2})
        upsert, deletions = self._contact_of_a_deleted_company("accepted")
        self.assertEqual(upsert.state, "sent")
        self._due_now()
        self.send()
        self.assertEqual(set(deletions.mapped("state")), {"waiting"})
        self.assertIn(upsert.uuid, deletions.sorted("id")[0].waiting_reason)
        # acknowledged: the deletion goes
        self.env["sync.response"]._receive(self.system, {"message_id": upsert.uuid, "status": "done"})
        for _round in range(2):
            self._due_now()
            self.send()
        self.assertEqual(set(deletions.mapped("state")), {"done"})
