"""Freezing a claimed batch: each message its own envelope, failures alone, races with the claim's commit.

Written by an attack on issue 29's rewrite of the freeze (envelopes stored by position, messages read as
plain rows); the tests that failed then are regression tests of its fixes."""

import json
import random
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from odoo.addons.sync_base.lib import envelope as envelope_lib
from odoo.addons.sync_base.lib.results import TransportResult

from .common import CommittedCase, QueueCase


@tagged("post_install", "-at_install")
class TestFreeze(QueueCase):

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _second_system(self):
        other = self.env["sync.system"].create({"name": "Other", "code": "other", "transport": "test"})
        self.contact_type.system_ids = [(4, other.id)]
        return other

    def _assert_own(self, claimed):
        """Each (id, envelope) of a claim carries its own message's envelope, and the frozen text is its dump."""
        self.env.invalidate_all()
        Message = self.env["sync.message"]
        for message_id, envelope in claimed:
            self.assertTrue(envelope, f"message {message_id} handed over without an envelope")
            envelope = envelope if isinstance(envelope, dict) else json.loads(envelope)
            message = Message.browse(message_id)
            self.assertEqual(envelope["id"], message.uuid)
            self.assertEqual(envelope["record"], {"model": message.model, "id": message.res_id})
            self.assertEqual(envelope["operation"], message.operation)
            self.assertEqual(message.envelope, envelope_lib.dumps(envelope), "frozen text == what goes")

    def _calls(self, message):
        return self.env["sync.test.transport.call"].search([("message_uuid", "=", message.uuid)], order="id")

    # ------------------------------------------------------------------
    # 1. each message its own envelope 
    # ------------------------------------------------------------------
    def test_mixed_batch_unordered_duplicate_ids_each_own_envelope(self):
        """Two data types, two systems, upserts, a deletion, a retried message frozen before,
        a message of a gone record, ids shuffled and duplicated: each entry carries its own envelope, in the
        order given, the gone one failed alone with an attempt row."""
        other = self._second_system()
        company = self._company_referenced_by_contacts()
        # a deletion of a record bound on the target
        self.partner.email = "bound@example.com"
        self.queue()
        self.send()
        company.name = "Parent Co renamed"
        partners = self.env["res.partner"].create([{"name": f"Mix {i}", "email": f"mix{i}@example.com",
                                                    "parent_id": company.id if i % 2 else False}
                                                   for i in range(6)])
        bound_id = self.partner.id
        self.partner.unlink()
        self.queue()
        deletion = self.messages(res_id=bound_id, operation="delete", system_id=self.system.id)
        self.assertEqual(len(deletion), 1)
        # a retried message, frozen at an earlier attempt with its record's former name
        retried = self._message(partners[0].id, state="retry", attempt_count=1)
        self._freeze_claimed(retried.ids)
        self.env.invalidate_all()
        frozen_before = retried.envelope
        self.assertTrue(frozen_before)
        partners[0].name = "Renamed after the freeze"
        self.env.flush_all()
        self.env["sync.message"].search([("res_id", "=", partners[0].id), ("id", "!=", retried.id)]).unlink()
        # new messages of the other partners, both systems, plus a company message of the other data type
        self.queue()
        new = self.env["sync.message"].search([("res_id", "in", partners[1:].ids), ("envelope", "=", False),
                                               ("operation", "=", "upsert")])
        self.assertTrue(new.filtered(lambda m: m.system_id == other))
        company_messages = self.env["sync.message"].search([("res_id", "=", company.id), ("envelope", "=", False)])
        gone = self.env["res.partner"].create({"name": "Gone soon"})
        gone_message = self._message(gone.id)
        gone.unlink()
        ids = (new | company_messages | deletion | retried | gone_message).ids
        random.Random(29).shuffle(ids)
        ids = ids + ids[:3]  # duplicates
        claimed = self._freeze_claimed(ids)
        self.env.invalidate_all()
        self.assertEqual([message_id for message_id, _e in claimed], [i for i in ids if i != gone_message.id])
        self._assert_own(claimed)
        by_id = dict(claimed)
        self.assertEqual(by_id[retried.id], frozen_before, "the envelope frozen before, byte for byte")
        self.assertEqual(retried.envelope, frozen_before)
        for message in new:
            payload = envelope_lib.parse(message.envelope)["payload"]
            self.assertEqual(payload["name"], self.env["res.partner"].browse(message.res_id).name)
        self.assertEqual(envelope_lib.parse(deletion.envelope)["payload"],
                         {"name": "Brandon", "$ref": f"test/{bound_id}"})
        self.assertEqual(gone_message.state, "failed")
        self.assertEqual(gone_message.failure_kind, "build")
        self.assertTrue(gone_message.attempt_ids, "failed messages get their attempt row")
        self.assertFalse(gone_message.envelope)

    def test_end_to_end_two_systems_each_call_its_own_envelope(self):
        """Sent for real through _cron_send: every transport call carries the envelope frozen on its
        message, with its own record's values."""
        other = self._second_system()
        partners = self.env["res.partner"].create([{"name": f"E2E {i}", "email": f"e{i}@example.com"}
                                                   for i in range(9)])
        self.queue()
        # renamed in reverse order before anything is built
        for partner in partners[::-1]:
            partner.name = f"E2E renamed {partner.id}"
        self.queue()
        self.send()
        messages = self.env["sync.message"].search([("res_id", "in", partners.ids)])
        self.assertEqual(len(messages), 18)
        self.assertEqual(set(messages.mapped("state")), {"done"})
        self.assertEqual(messages.mapped("system_id"), self.system | other)
        for message in messages:
            calls = self._calls(message)
            self.assertEqual(len(calls), 1)
            self.assertEqual(envelope_lib.dumps(calls.envelope), message.envelope)
            self.assertEqual(calls.envelope["payload"]["name"], f"E2E renamed {message.res_id}")

    # ------------------------------------------------------------------
    # 2. resends: identical envelope after recovery 
    # ------------------------------------------------------------------
    def test_worker_killed_after_freeze_resends_identical_envelope(self):
        """Claimed and frozen, worker gone before the send: recovered, the record renamed since,
        the identical bytes go."""
        message = self._queued()
        Message, settings = self.env["sync.message"], self.env["sync.message"]._settings()
        claimed = Message._claim(self.system, settings)
        self.assertEqual([c[0] for c in claimed], message.ids)
        self.env.invalidate_all()
        frozen = message.envelope
        message.write({"lease_until": fields.Datetime.now() - timedelta(seconds=1)})
        Message._cron_resend()
        self.partner.name = "Renamed while recovered"
        self.queue()
        self.send()
        self.send()
        self.assertEqual(message.state, "done")
        self.assertEqual(message.envelope, frozen)
        calls = self._calls(message)
        self.assertEqual([envelope_lib.dumps(c.envelope) for c in calls], [frozen])
        later = self.messages(res_id=self.partner.id).filtered(lambda m: m != message)
        self.assertEqual(later.state, "done")
        self.assertEqual(envelope_lib.parse(later.envelope)["payload"]["name"], "Renamed while recovered")

    def test_worker_killed_between_claim_and_freeze_builds_once(self):
        """Killed after the claim, before the freeze: recovered, built at the next claim, once."""
        message = self._queued()
        Message = type(self.env["sync.message"])

        class Killed(Exception):
            pass

        with patch.object(Message, "_freeze_envelopes", autospec=True, side_effect=Killed), \
                self.assertRaises(Killed):
            self.env["sync.message"]._claim(self.system, self.env["sync.message"]._settings())
        self.env.invalidate_all()
        self.assertFalse(message.envelope)
        message.write({"lease_until": fields.Datetime.now() - timedelta(seconds=1)})
        self.env["sync.message"]._cron_resend()
        self.send()
        self.assertEqual(message.state, "done")
        self.assertEqual(envelope_lib.parse(message.envelope)["id"], message.uuid)
        self.assertEqual([envelope_lib.dumps(c.envelope) for c in self._calls(message)], [message.envelope])

    # ------------------------------------------------------------------
    # 3. a message that failed between the claim and the freeze
    # ------------------------------------------------------------------
    def _claim_with(self, between):
        """Claim a batch, running ``between()`` after the claim's commit and before the freeze."""
        Message = type(self.env["sync.message"])
        original = Message._freeze_claimed

        def racing(messages, ids):
            between()
            self.env.flush_all()
            return original(messages, ids)

        self.env.flush_all()
        with patch.object(Message, "_freeze_claimed", racing):
            return self.env["sync.message"]._claim(self.system, self.env["sync.message"]._settings())

    def test_failed_by_a_late_refusal_between_claim_and_freeze_is_not_sent(self):
        """A retried message (frozen before) is claimed; before its freeze, the posted answer of its earlier
        delivery refuses it for good: it is no longer this worker's, and is not sent again."""
        self.system.write({"test_outcome": "accepted", "ack_timeout": 60})
        message = self._queued()
        self.send()
        self.assertEqual(message.state, "sent")
        message.write({"state": "retry", "next_attempt_at": fields.Datetime.now() - timedelta(seconds=1)})
        self.system.test_outcome = "acknowledged"

        def refused():
            self.env["sync.message"].browse(message.id)._apply_result(TransportResult.permanent("refused late"))

        claimed = self._claim_with(refused)
        self.env.invalidate_all()
        self.assertEqual(message.state, "failed")
        self.assertEqual([c[0] for c in claimed], [],
                         "a message failed before its freeze is not handed to the transport")

    def test_given_up_by_recovery_between_claim_and_freeze_is_not_sent(self):
        """A new message's claim outlives its lease (slow freeze, keeper past its max hold): ir_cron_resend
        recovers it and, attempts spent, fails it; the freeze that follows neither builds nor sends it."""
        message = self._queued()
        self.env.cr.execute("UPDATE sync_message SET attempt_count = 2 WHERE id = %s", [message.id])
        self.env.invalidate_all()

        def given_up():
            self.env.cr.execute("UPDATE sync_message SET lease_until = %s WHERE id = %s",
                                [fields.Datetime.now() - timedelta(seconds=1), message.id])
            self.env["sync.message"]._cron_resend()

        claimed = self._claim_with(given_up)
        self.env.invalidate_all()
        self.assertEqual(message.state, "failed")
        self.assertEqual([c[0] for c in claimed], [],
                         "a message failed before its freeze is not handed to the transport")

    def test_cancelled_unsent_between_claim_and_freeze(self):
        """A user cannot cancel a message being sent."""
        message = self._queued()

        def cancel():
            message.invalidate_recordset()
            message.action_cancel()

        claimed = self._claim_with(cancel)
        self.env.invalidate_all()
        self.assertEqual(message.state, "sending")
        self.assertEqual([c[0] for c in claimed], message.ids)
        self._assert_own(claimed)

    # ------------------------------------------------------------------
    # 4. bad stored data
    # ------------------------------------------------------------------
    def test_empty_string_envelope_is_not_sent_and_does_not_sink_the_batch(self):
        """A retried message whose stored envelope is '' (not NULL) is built as one without: never handed
        over empty, its batch goes."""
        others = self.env["res.partner"].create([{"name": f"Batchmate {i}"} for i in range(2)])
        bad = self._message(self.partner.id, state="retry", attempt_count=1)
        self.env.flush_all()
        self.env.cr.execute("UPDATE sync_message SET envelope = '' WHERE id = %s", [bad.id])
        self.env.invalidate_all()
        self.queue()
        mates = self.env["sync.message"].search([("res_id", "in", others.ids)])
        self.assertEqual(len(mates), 2)
        # an empty envelope is no envelope: built now (it was handed over as '', and the batch sank on parsing it)
        with self.assertNoLogs("odoo.addons.sync_queue.models.sync_message", "ERROR"):
            self.send()
        self.assertEqual(set(mates.mapped("state")), {"done"}, "the others of the batch go")
        self.assertNotEqual(bad.state, "sending")
        for call in self._calls(bad):
            self.assertTrue(call.envelope, "never sent with an empty envelope")

    def test_odd_deletion_info_fails_alone(self):
        """A deletion whose deletion_info is a JSON string fails alone, with the reason; its batch goes (it
        used to raise out of the freeze and keep the whole batch until its lease ended)."""
        others = self.env["res.partner"].create([{"name": f"Mate {i}"} for i in range(2)])
        self.queue()
        mates = self.env["sync.message"].search([("res_id", "in", others.ids)])
        deletion = self._message(987654, operation="delete", deletion_info="oops")
        self.send()
        self.assertEqual(set(mates.mapped("state")), {"done"}, "the others of the batch go")
        self.assertEqual(deletion.state, "failed", "the odd deletion fails alone, with a reason")
        self.assertTrue(deletion.last_error)

    def test_deletion_without_info_carries_the_binding(self):
        """deletion_info NULL: the payload is the binding reference alone."""
        self._queued()
        self.send()
        partner_id = self.partner.id
        deletion = self._message(partner_id, operation="delete")
        self.assertFalse(deletion.deletion_info)
        claimed = self._freeze_claimed(deletion.ids)
        self._assert_own(claimed)
        self.assertEqual(envelope_lib.parse(deletion.envelope)["payload"], {"$ref": f"test/{partner_id}"})

    def test_deletion_info_list_of_pairs(self):
        """deletion_info as a JSON list of pairs becomes an object."""
        deletion = self._message(4242, operation="delete", deletion_info=[["name", "Pairs"]])
        claimed = self._freeze_claimed(deletion.ids)
        self._assert_own(claimed)
        self.assertEqual(envelope_lib.parse(deletion.envelope)["payload"], {"name": "Pairs"})

    def test_message_of_another_model_than_its_data_type(self):
        """A message whose ``model`` is not its data type's model (the data type's model changed since it was
        queued) never carries the data type's record of the same id: it fails with the reason."""
        message = self._message(self.partner.id, model="x_gone.model")
        claimed = self._freeze_claimed(message.ids)
        self.env.invalidate_all()
        if claimed:
            envelope = envelope_lib.parse(message.envelope)
            self.assertNotEqual(envelope["payload"].get("name"), self.partner.name,
                                "res.partner's values sent as record x_gone.model")
        else:
            self.assertEqual(message.state, "failed")

    def test_data_type_model_gone_fails_its_messages_alone(self):
        """A data type whose model is no longer in the registry fails its own messages; those of the other
        data types of the batch go."""
        other = self._second_system()
        ok = self._queued().filtered(lambda m: m.system_id == other)
        broken_type = self.env["sync.data.type"].create({
            "name": "Broken", "library_id": self.library.id, "model_id": self.env["ir.model"]._get("res.partner").id,
            "system_ids": [(6, 0, other.ids)],
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True})],
        })
        broken_type.action_generate_schema()
        partner = self.env["res.partner"].create({"name": "Orphan"})
        broken = self._message(partner.id, data_type=broken_type, system=other)
        self.env.flush_all()
        self.env.cr.execute("UPDATE sync_data_type SET model_name = 'x_gone.model' WHERE id = %s", [broken_type.id])
        self.env.invalidate_all()
        claimed = self._freeze_claimed((ok | broken).ids)
        self.env.invalidate_all()
        self.assertEqual([c[0] for c in claimed], ok.ids, "the healthy message goes")
        self.assertEqual(broken.state, "failed")

    def test_archived_or_disabled_data_type_between_claim_and_freeze(self):
        """The data type disabled after the claim: the claimed messages are
        built and go (the claim decided)."""
        message = self._queued()

        def disable():
            self.contact_type.enabled = False

        claimed = self._claim_with(disable)
        self.assertEqual([c[0] for c in claimed], message.ids)
        self._assert_own(claimed)

    # ------------------------------------------------------------------
    # 5. failures while building
    # ------------------------------------------------------------------
    def test_whole_data_type_failing_keeps_its_deletions_and_the_order(self):
        """A data type whose serialization raises: its upserts fail (attempt rows, reason), its
        deletion and the other data type's messages go, in the claimed order, none with an empty envelope."""
        company = self._company_referenced_by_contacts()
        company_message = self.messages(res_id=company.id)
        self._queued()
        self.send()
        partners = self.env["res.partner"].create([{"name": f"Doomed {i}"} for i in range(3)])
        self.queue()
        upserts = self.env["sync.message"].search([("res_id", "in", partners.ids)])
        partner_id = self.partner.id
        self.partner.unlink()
        self.queue()
        deletion = self.messages(res_id=partner_id, operation="delete")
        company.name = "Parent Co renamed"
        self.queue()
        company_message = self.messages(res_id=company.id, state="pending")
        DataType = type(self.env["sync.data.type"])
        original = DataType._serialize_collect

        def broken(data_type, records, system=None):
            if data_type == self.contact_type:
                raise ValueError("schema broken")
            return original(data_type, records, system)

        ids = [upserts[0].id, deletion.id, company_message.id, upserts[1].id, upserts[2].id]
        with patch.object(DataType, "_serialize_collect", broken), \
                self.assertLogs("odoo.addons.sync_queue.models.sync_message", "ERROR"):
            claimed = self._freeze_claimed(ids)
        self.env.invalidate_all()
        self.assertEqual([c[0] for c in claimed], [deletion.id, company_message.id])
        self._assert_own(claimed)
        for message in upserts:
            self.assertEqual((message.state, message.failure_kind), ("failed", "build"))
            self.assertIn("cannot be serialized: schema broken", message.last_error)
            self.assertEqual(message.attempt_ids.mapped("outcome"), ["permanent"])
            self.assertFalse(message.envelope)

    def test_per_record_error_fails_alone_in_order(self):
        """One record's own error (a document that does not validate), one record gone: those two
        fail alone, with reasons and attempt rows; the others go in order."""
        partners = self.env["res.partner"].create([{"name": f"Rec {i}"} for i in range(5)])
        self.queue()
        messages = self.env["sync.message"].search([("res_id", "in", partners.ids)], order="id")
        DataType = type(self.env["sync.data.type"])
        original = DataType._serialize_collect

        def one_bad(data_type, records, system=None):
            results = original(data_type, records, system)
            return [(record, None, ValueError(f"bad record {record.id}")) if record == partners[1]
                    else (record, document, error) for record, document, error in results]

        partners[3].unlink()
        self.env.flush_all()
        ids = messages.ids[::-1]
        with patch.object(DataType, "_serialize_collect", one_bad):
            claimed = self._freeze_claimed(ids)
        self.env.invalidate_all()
        bad = messages.filtered(lambda m: m.res_id in (partners[1].id, partners[3].id))
        self.assertEqual([c[0] for c in claimed], [i for i in ids if i not in bad.ids])
        self._assert_own(claimed)
        for message in bad:
            self.assertEqual(message.state, "failed")
            self.assertTrue(message.last_error)
            self.assertEqual(len(message.attempt_ids), 1)
            self.assertFalse(message.envelope)
        self.assertIn(f"bad record {partners[1].id}",
                      messages.filtered(lambda m: m.res_id == partners[1].id).last_error)

    def test_record_left_the_company(self):
        """The system is a company's; a record of another company fails alone with a reason."""
        other_company = self.env["res.company"].create({"name": "Elsewhere"})
        self.system.company_id = self.env.company
        stay = self.env["res.partner"].create({"name": "Stays", "company_id": self.env.company.id})
        leaves = self.env["res.partner"].create({"name": "Leaves", "company_id": self.env.company.id})
        self.queue()
        messages = self.env["sync.message"].search([("res_id", "in", (stay | leaves).ids)], order="id")
        self.assertEqual(len(messages), 2)
        leaves.company_id = other_company
        self.env.flush_all()
        self.env["sync.change"].search([]).unlink()
        claimed = self._freeze_claimed(messages.ids)
        self.env.invalidate_all()
        gone = messages.filtered(lambda m: m.res_id == leaves.id)
        self.assertEqual([c[0] for c in claimed], (messages - gone).ids)
        self.assertEqual(gone.state, "failed")
        self.assertIn("left the company", gone.last_error)
        self.assertTrue(gone.attempt_ids)

    # ------------------------------------------------------------------
    # 6. holds
    # ------------------------------------------------------------------
    def test_held_messages_keep_state_and_attempts(self):
        """A never-sent contact held by its company's message waiting for a retry stays unsent
        (waiting, 0 attempts: a later change coalesces into it); a retried contact held stays retryable with
        its attempt count; both say why, and go when the company's message is done."""
        company = self._company_referenced_by_contacts()
        company_message = self.messages(res_id=company.id)
        company_message.write({"state": "retry", "attempt_count": 1,
                               "next_attempt_at": fields.Datetime.now() + timedelta(hours=1)})
        fresh = self.env["res.partner"].create({"name": "Fresh", "parent_id": company.id})
        retried_partner = self.env["res.partner"].create({"name": "Again", "parent_id": company.id})
        self.queue()
        fresh_message = self.messages(res_id=fresh.id)
        retried = self.messages(res_id=retried_partner.id)
        retried.write({"state": "retry", "attempt_count": 2})
        self.send()
        self.assertEqual((fresh_message.state, fresh_message.attempt_count), ("waiting", 0))
        self.assertEqual((retried.state, retried.attempt_count), ("waiting", 2))
        self.assertIn(company_message.uuid, fresh_message.waiting_reason)
        self.assertIn(company_message.uuid, retried.waiting_reason)
        fresh.name = "Fresh renamed"
        self.queue()
        self.assertEqual(len(self.messages(res_id=fresh.id)), 1, "coalesced into the held unsent message")
        self.assertEqual(fresh_message.record_name, fresh.complete_name)
        company_message.write({"next_attempt_at": fields.Datetime.now() - timedelta(seconds=1)})
        (fresh_message | retried).write({"next_attempt_at": fields.Datetime.now() - timedelta(seconds=1)})
        self.send()
        self.assertEqual({company_message.state, fresh_message.state, retried.state}, {"done"})
        self.assertEqual(envelope_lib.parse(fresh_message.envelope)["payload"]["name"], "Fresh renamed")

    def test_held_pending_with_null_attempt_count(self):
        """A pending message whose attempt_count is NULL in the database (written in
        SQL): the claim's plain rows read None where the ORM read 0; the hold must still write 'waiting'."""
        company = self._company_referenced_by_contacts()
        company_message = self.messages(res_id=company.id)
        company_message.write({"state": "retry", "attempt_count": 1,
                               "next_attempt_at": fields.Datetime.now() + timedelta(hours=1)})
        fresh = self.env["res.partner"].create({"name": "Nulls", "parent_id": company.id})
        self.queue()
        message = self.messages(res_id=fresh.id)
        self.env.flush_all()
        self.env.cr.execute("UPDATE sync_message SET attempt_count = NULL WHERE id = %s", [message.id])
        self.env.invalidate_all()
        self.send()
        self.assertEqual(message.state, "waiting")
        self.assertTrue(message.waiting_reason)

    # ------------------------------------------------------------------
    # 7. refresh of unsent messages
    # ------------------------------------------------------------------
    def test_refresh_many_records_references_and_names_claimed_between(self):
        """Several records, references changed, renamed in reverse order, one message claimed in
        between: each unsent message gets its own record's name and references; the claimed one keeps its own."""
        company = self._company_referenced_by_contacts()
        company_b = self.env["res.partner"].create({"name": "Other Co", "is_company": True})
        partners = self.env["res.partner"].create([{"name": f"Ref {i}", "parent_id": company.id}
                                                   for i in range(8)])
        self.queue()
        messages = self.env["sync.message"].search([("res_id", "in", partners.ids)])
        claimed = messages.filtered(lambda m: m.res_id == partners[4].id)
        self.env.flush_all()
        self.env.cr.execute("UPDATE sync_message SET state = 'sending', attempt_count = 1 WHERE id = %s",
                            [claimed.id])
        self.env.invalidate_all()
        for i, partner in reversed(list(enumerate(partners))):
            partner.write({"name": f"Ref renamed {partner.id}" + "x" * (i * 4000),
                           "parent_id": company_b.id if i % 2 else False})
        self.queue()
        self.env.invalidate_all()
        for message in messages - claimed:
            partner = self.env["res.partner"].browse(message.res_id)
            self.assertEqual(message.record_name, partner.complete_name)
            expected = [["res.partner", company_b.id]] if partner.parent_id else False
            self.assertEqual(message.reference_keys or False, expected)
        self.assertEqual(claimed.record_name, "Parent Co, Ref 4")
        self.assertEqual(claimed.reference_keys, [["res.partner", company.id]])

    def test_refresh_only_names_no_keys(self):
        """Only names refreshed (no reference keys anywhere): NULL keys arrays."""
        partners = self.env["res.partner"].create([{"name": f"N {i}"} for i in range(3)])
        self.queue()
        for partner in partners:
            partner.name = partner.name + " 2"
        self.queue()
        messages = self.env["sync.message"].search([("res_id", "in", partners.ids)])
        self.assertEqual(len(messages), 3)
        self.assertEqual({m.res_id: m.record_name for m in messages}, {p.id: p.name for p in partners})
        self.assertEqual(set(messages.mapped(lambda m: bool(m.reference_keys))), {False})

    # ------------------------------------------------------------------
    # 8. a deletion never before an upsert that may still arrive
    # ------------------------------------------------------------------
    def test_deletion_claimed_with_a_referencing_retry_waits(self):
        """A company's deletion while a contact's document referencing it is in retry: the
        deletion waits for it; the retried contact keeps its frozen envelope."""
        company = self._company_referenced_by_contacts()
        self.send()
        contact = self.env["res.partner"].create({"name": "Child", "parent_id": company.id})
        self.queue()
        self.system.test_outcome = "transient"
        self.send()
        contact_message = self.messages(res_id=contact.id)
        self.assertEqual(contact_message.state, "retry")
        frozen = contact_message.envelope
        self.system.test_outcome = "acknowledged"
        company_id = company.id
        contact.parent_id = False
        company.unlink()
        self.queue()
        deletion = self.messages(res_id=company_id, operation="delete")
        self.assertTrue(deletion)
        self.send()
        self.assertIn(deletion.state, ("waiting", "pending"))
        self.assertIn(contact_message.uuid, deletion.waiting_reason or "")
        contact_message.write({"next_attempt_at": fields.Datetime.now() - timedelta(seconds=1)})
        self.send()
        self.assertEqual(contact_message.envelope, frozen)
        deletion.write({"next_attempt_at": fields.Datetime.now() - timedelta(seconds=1)})
        self.send()
        self.assertEqual((contact_message.state, deletion.state), ("done", "done"))
        calls = self.env["sync.test.transport.call"].search([("message_uuid", "in", (contact_message | deletion)
                                                              .mapped("uuid"))], order="id")
        self.assertEqual(calls.mapped("message_uuid")[-1], deletion.uuid, "the deletion last")


@tagged("post_install", "-at_install")
class TestFreezeRealCursors(CommittedCase):
    """Races in real transactions that commit."""

    PARTNERS = ("Racer 0", "Racer 1", "Racer 2")

    def _state(self):
        def read(env):
            env.cr.execute("SELECT res_id, state, envelope IS NOT NULL FROM sync_message WHERE system_id = %s "
                           "ORDER BY id", [self.system_id])
            return env.cr.fetchall()
        return self.run_in_cursor(read)

    def test_lease_kept_alive_during_a_slow_freeze_does_not_lose_the_batch(self):
        """The lease keeper moves the batch's leases (its own committed UPDATE) while the freeze builds, after
        the build's snapshot: the envelopes are stored in a transaction of their own, and the batch goes (the
        build's own UPDATE failed on the concurrent update, and the batch waited for its lease to end)."""
        Message = type(self.env["sync.message"])
        original = Message._freeze_envelopes

        def slow(messages):
            frozen = original(messages)
            # what LeaseKeeper._extend commits meanwhile, every third of the lease
            self.run_in_cursor(lambda env: env.cr.execute(
                "UPDATE sync_message SET lease_until = (now() AT TIME ZONE 'UTC') + interval '300 seconds' "
                "WHERE system_id = %s AND state = 'sending'", [self.system_id]))
            return frozen

        with patch.object(Message, "_freeze_envelopes", slow):
            self.run_in_cursor(lambda env: env["sync.message"]._cron_send())
        states = self._state()
        self.assertEqual({state for _r, state, _e in states}, {"done"}, states)

    def test_record_renamed_between_claim_commit_and_freeze(self):
        """The record renamed and committed after the claim, before the freeze's snapshot: the
        envelope carries the new name (built when it goes), its own."""
        Message = type(self.env["sync.message"])
        original = Message._freeze_claimed

        def racing(messages, ids):
            self.run_in_cursor(lambda env: env["res.partner"].browse(self.partner_ids).write({"name": "Late"}))
            return original(messages, ids)

        with patch.object(Message, "_freeze_claimed", racing):
            self.run_in_cursor(lambda env: env["sync.message"]._cron_send())

        def read(env):
            messages = env["sync.message"].search([("system_id", "=", self.system_id)], order="id")
            return [(m.state, m.res_id, envelope_lib.parse(m.envelope)["payload"]["name"],
                     envelope_lib.parse(m.envelope)["id"] == m.uuid) for m in messages if m.operation == "upsert"]

        rows = self.run_in_cursor(read)
        self.assertEqual(len(rows), 3)
        for state, _res_id, name, own in rows:
            self.assertEqual((state, name, own), ("done", "Late", True))
