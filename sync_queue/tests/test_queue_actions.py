import json

from lxml import etree

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import QueueCase


@tagged("post_install", "-at_install")
class TestQueueActions(QueueCase):
    """The queue's screens and buttons: why a message failed, Retry versus Requeue, what a bulk action
    reports, Open Record within the user's rights."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sync_user = mail_new_test_user(cls.env, login="actions_user", name="Ann Queue",
                                           groups="base.group_user,sync_base.group_sync_user")

    def _queued(self, partner=None):
        partner = partner or self.partner
        partner.email = f"{partner.id}@example.com"
        self.queue()
        return self.messages(res_id=partner.id)

    def _failed(self, outcome):
        self.system.write({"test_outcome": outcome, "max_attempts": 1})
        message = self._queued()
        self.send()
        self.assertEqual(message.state, "failed")
        return message

    def _break_schema(self):
        """The schema wants an integer e-mail: every contact fails to build until it is mended."""
        schema = self.contact_type.schema_id
        original = schema.schema
        broken = json.loads(original)
        broken["properties"]["email"] = {"type": "integer"}
        schema.schema = json.dumps(broken)
        return lambda: schema.write({"schema": original})

    # ------------------------------------------------------------------
    # Why a message failed
    # ------------------------------------------------------------------
    def test_a_refusal_for_good_is_a_content_failure(self):
        message = self._failed("permanent")
        self.assertEqual(message.failure_kind, "refused")

    def test_attempts_running_out_is_an_outage_not_content(self):
        message = self._failed("transient")
        self.assertEqual(message.failure_kind, "outage")
        self.system.test_outcome = "acknowledged"
        message.action_retry()
        self.assertFalse(message.failure_kind, "a retried message has not failed (yet)")
        self.send()
        self.assertEqual((message.state, message.failure_kind), ("done", False))

    def test_a_document_its_schema_refuses_could_not_be_built(self):
        mend = self._break_schema()
        message = self._queued()
        self.send()
        self.assertEqual((message.state, message.failure_kind), ("failed", "build"))
        self.assertFalse(message.envelope)
        # the mapping is mended: Requeue sends the record as it is now, the failed message links to it
        mend()
        message.action_requeue()
        self.assertEqual(message.state, "cancelled")
        self.assertTrue(message.replaced_by_id)
        self.send()
        self.assertEqual(message.replaced_by_id.state, "done")

    def test_a_delivered_message_has_no_failure_kind(self):
        message = self._queued()
        self.send()
        self.assertEqual((message.state, message.failure_kind, message.error_summary), ("done", False, False))

    # ------------------------------------------------------------------
    # The form: which button is the primary one, what is an error
    # ------------------------------------------------------------------
    def _form_nodes(self):
        arch = self.env["sync.message"].get_view(view_type="form")["arch"]
        return etree.fromstring(arch)

    def _visible_buttons(self, values):
        """``[(name, class)]`` of the header buttons a message with ``values`` shows."""
        buttons = self._form_nodes().xpath("//header/button")
        return [(b.get("name"), b.get("class") or "") for b in buttons
                if not safe_eval(b.get("invisible") or "False", values)]

    def test_requeue_is_primary_for_a_content_failure_retry_otherwise(self):
        for kind, primary in (("refused", "action_requeue"), ("build", "action_requeue"),
                              ("outage", "action_retry"), (False, "action_retry")):
            with self.subTest(kind=kind):
                shown = self._visible_buttons({"state": "failed", "failure_kind": kind})
                self.assertEqual([name for name, css in shown if "btn-primary" in css], [primary])
                self.assertEqual({name for name, _css in shown}, {"action_retry", "action_requeue", "action_cancel"})
        # a message waiting for its next attempt: Retry (now) is the primary action, Requeue is not offered
        shown = self._visible_buttons({"state": "retry", "failure_kind": False})
        self.assertEqual([name for name, css in shown if "btn-primary" in css], ["action_retry"])
        self.assertNotIn("action_requeue", [name for name, _css in shown])

    def test_buttons_explain_themselves_and_cancel_asks_first(self):
        for view_type in ("form", "list"):
            root = etree.fromstring(self.env["sync.message"].get_view(view_type=view_type)["arch"])
            with self.subTest(view_type=view_type):
                for button in root.xpath("//button[@name='action_retry']"):
                    self.assertEqual(button.get("help"),
                                     "Send the identical frozen envelope again (after a passing outage).")
                for button in root.xpath("//button[@name='action_requeue']"):
                    self.assertEqual(button.get("help"),
                                     "Build a new message from the record as it is now (after a mapping fix).")
                cancels = root.xpath("//button[@name='action_cancel']")
                self.assertTrue(cancels)
                self.assertTrue(all(button.get("confirm") for button in cancels))

    def test_a_finished_message_shows_no_next_attempt(self):
        field = self._form_nodes().xpath("//field[@name='next_attempt_at']")[0]
        for state, hidden in (("done", True), ("cancelled", True), ("failed", True), ("retry", False),
                              ("pending", False)):
            with self.subTest(state=state):
                self.assertEqual(bool(safe_eval(field.get("invisible"), {"state": state})), hidden)

    def test_a_cancelled_message_is_information_not_an_error(self):
        root = self._form_nodes()

        def alerts(values):
            return [div.get("class") for div in root.xpath("//div[contains(@class, 'alert')]")
                    if not safe_eval(div.get("invisible") or "False", values)]

        base = {"last_error": "x", "replaced_by_id": False}
        self.assertEqual(alerts(dict(base, state="failed")), ["alert alert-danger"])
        self.assertEqual(alerts(dict(base, state="cancelled")), ["alert alert-info"])
        self.assertEqual(alerts(dict(base, state="cancelled", replaced_by_id=7)), ["alert alert-info"] * 2)
        self.assertEqual(alerts(dict(base, state="retry")), ["alert alert-warning"])
        list_arch = etree.fromstring(self.env["sync.message"].get_view(view_type="list")["arch"])
        self.assertEqual(list_arch.get("decoration-muted"), "state == 'cancelled'")

    # ------------------------------------------------------------------
    # Requeue links the replaced message to its replacement
    # ------------------------------------------------------------------
    def test_requeue_links_the_replaced_message_to_its_replacement(self):
        message = self._failed("permanent")
        self.system.test_outcome = "acknowledged"
        action = message.with_user(self.sync_user).action_requeue()
        fresh = self.messages(res_id=self.partner.id, state="pending")
        self.assertEqual(len(fresh), 1)
        self.assertEqual(message.replaced_by_id, fresh)
        self.assertEqual(fresh.replaced_ids, message)
        self.assertEqual(message.state, "cancelled")
        self.assertEqual(message.last_error, "Requeued by Ann Queue.")
        self.assertEqual(action["params"]["message"], "1 message requeued")
        self.assertEqual(action["params"]["type"], "success")
        # a second Requeue of the same message merges into the message still to send
        message.action_requeue()
        self.assertEqual(message.replaced_by_id, fresh)
        self.assertEqual(len(self.messages(res_id=self.partner.id, state="pending")), 1)

    def test_requeued_and_cancelled_are_no_content_failures_nor_errors(self):
        search = etree.fromstring(self.env["sync.message"].get_view(view_type="search")["arch"])
        domain = safe_eval(search.xpath("//filter[@name='filter_content']")[0].get("domain"))
        requeued = self._failed("permanent")
        self.assertEqual((requeued.failure_kind, bool(requeued.error_summary)), ("refused", True))
        self.assertIn(requeued, self.env["sync.message"].search(domain))
        self.system.test_outcome = "acknowledged"
        requeued.with_user(self.sync_user).action_requeue()
        other = self.env["res.partner"].create({"name": "Cancelled one"})
        self.system.test_outcome = "permanent"
        cancelled = self._queued(other)
        self.send()
        self.assertEqual((cancelled.state, cancelled.failure_kind), ("failed", "refused"))
        cancelled.with_user(self.sync_user).action_cancel()
        self.env.invalidate_all()
        for message, note in ((requeued, "Requeued by Ann Queue."), (cancelled, "Cancelled by Ann Queue.")):
            with self.subTest(note=note):
                self.assertEqual((message.state, message.failure_kind, message.error_summary, message.last_error),
                                 ("cancelled", False, False, note), "the note stays in the form as information")
        found = self.env["sync.message"].search(domain)
        self.assertNotIn(requeued, found)
        self.assertNotIn(cancelled, found)
        groups = self.env["sync.message"]._read_group([("id", "in", (requeued | cancelled).ids)],
                                                      ["error_summary"], ["__count"])
        self.assertEqual([summary for summary, _count in groups], [False])

    # ------------------------------------------------------------------
    # Bulk actions report what they did
    # ------------------------------------------------------------------
    def test_bulk_actions_count_what_they_did_and_skipped(self):
        second = self.env["res.partner"].create({"name": "Second", "email": "s@example.com"})
        third = self.env["res.partner"].create({"name": "Third", "email": "t@example.com"})
        self.system.write({"test_outcome": "permanent", "max_attempts": 1})
        self.queue()
        self.send()
        failed = self.messages(state="failed").filtered(lambda m: m.res_id in (second | third).ids)
        self.assertEqual(len(failed), 2)
        self.system.test_outcome = "acknowledged"
        done = self._queued()
        self.send()
        self.assertEqual(done.state, "done")
        as_user = (failed | done).with_user(self.sync_user)
        action = as_user.action_retry()
        self.assertEqual(action["params"]["message"], "2 messages retried, 1 skipped: already done")
        self.assertEqual(action["params"]["type"], "warning")
        self.assertEqual(action["params"]["next"], {"type": "ir.actions.client", "tag": "soft_reload"})
        self.assertEqual(set(failed.mapped("state")), {"retry"})
        action = as_user.action_cancel()
        self.assertEqual(action["params"]["message"], "2 messages cancelled, 1 skipped: already done")
        self.assertEqual(set(failed.mapped("state")), {"cancelled"})
        # cancelled already: left as they are, with their reason
        action = failed[:1].with_user(self.sync_user).action_cancel()
        self.assertEqual(action["params"]["message"],
                         "0 messages cancelled, 1 skipped: cancelled (Requeue builds it again)")
        self.assertEqual(failed[:1].last_error, "Cancelled by Ann Queue.")
        third_message = failed.filtered(lambda m: m.res_id == third.id)
        third.unlink()
        action = as_user.action_requeue()
        self.assertEqual(action["params"]["message"],
                         f"2 messages requeued, 1 skipped: record gone ({third_message.display_name})")
        self.assertEqual(action["params"]["type"], "warning")
        self.assertEqual(third_message.state, "cancelled", "left as it was")
        self.assertFalse(third_message.replaced_by_id)

    def test_a_report_of_several_reasons_counts_each(self):
        report = self.env["sync.message"]._action_report("retry", ["acted", "done", "sending", "done"])
        self.assertEqual(report["params"]["message"],
                         "1 message retried, 3 skipped: 2 already done, 1 being sent")
        report = self.env["sync.message"]._action_report("cancel", ["acted", "acted"])
        self.assertEqual((report["params"]["message"], report["params"]["type"]), ("2 messages cancelled", "success"))

    # ------------------------------------------------------------------
    # Open Record, within the user's rights
    # ------------------------------------------------------------------
    def _private_partner(self):
        """A partner of a company the synchronization user is not in: he may not read it."""
        other_company = self.env["res.company"].create({"name": "Elsewhere"})
        return self.env["res.partner"].create({"name": "Hidden", "company_id": other_company.id})

    def test_open_record_opens_what_the_user_may_read_and_says_why_not_otherwise(self):
        message = self._queued()
        action = message.with_user(self.sync_user).action_open_record()
        self.assertEqual((action["type"], action["res_model"], action["res_id"]),
                         ("ir.actions.act_window", "res.partner", self.partner.id))
        hidden = self._private_partner()
        hidden_message = message.sudo().copy({"res_id": hidden.id, "state": "done"})
        action = hidden_message.with_user(self.sync_user).action_open_record()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(action["params"]["message"], f"You may not read the record res.partner,{hidden.id}.")
        self.assertNotIn("Hidden", action["params"]["message"])
        partner_id = self.partner.id
        self.partner.unlink()
        action = message.with_user(self.sync_user).action_open_record()
        self.assertEqual(action["params"]["message"], f"The record res.partner,{partner_id} no longer exists.")

    def test_responses_and_incoming_messages_open_their_record_too(self):
        self.system.test_outcome = "permanent"
        message = self._queued()
        self.send()
        response = message.response_ids
        self.assertEqual(len(response), 1)
        action = response.with_user(self.sync_user).action_open_record()
        self.assertEqual((action.get("res_model"), action.get("res_id")), ("res.partner", self.partner.id))
        hidden = self._private_partner()
        incoming = self.env["sync.inbound.message"].create({
            "message_uuid": "5a0c3c36-4a6b-4a55-9a51-0d6c1b3b1a01", "system_id": self.system.id, "state": "done",
            "res_model": "res.partner", "res_id": hidden.id, "remote_record": "target/res.partner/9",
            "answer": {"status": "done", "remote_ref": str(hidden.id)}, "http_status": 200,
        })
        as_user = incoming.with_user(self.sync_user)
        self.assertEqual(as_user.action_open_record()["params"]["message"],
                         f"You may not read the record res.partner,{hidden.id}.")
        # the list names the record by what the user may read: model and id only here, its name for the admin
        self.assertEqual(as_user.record_name, f"res.partner,{hidden.id}")
        self.assertEqual(incoming.record_name, "Hidden")
        self.assertIn(f'"remote_ref": "{hidden.id}"', incoming.answer_pretty)
        self.assertTrue(incoming.answer_pretty.startswith("HTTP 200"))
        incoming.write({"res_model": False, "res_id": False})
        self.assertEqual(incoming.record_name, "target/res.partner/9", "not applied: the record at the origin")

    def test_a_response_is_named_in_the_breadcrumb(self):
        self.system.test_outcome = "permanent"
        message = self._queued()
        self.send()
        self.assertEqual(message.response_ids.display_name, f"Refusal of Brandon ({message.uuid[:8]})")
        unknown = self.env["sync.response"].create({"message_uuid": "abc", "status": "done"})
        self.assertEqual(unknown.display_name, "Acknowledgement of abc")

    # ------------------------------------------------------------------
    # The lists and the search
    # ------------------------------------------------------------------
    def test_a_long_error_is_summed_up_in_sql_and_orm_alike(self):
        long_error = "  " + "x" * 200 + "\nTraceback line"
        message = self._queued()
        message.sudo().write({"last_error": long_error})
        self.assertEqual(message.error_summary, "x" * 79 + "\u2026")
        self.env.flush_all()
        self.env.cr.execute("UPDATE sync_message SET last_error = %s WHERE id = %s", ["refused\nmore", message.id])
        message.invalidate_recordset()
        self.assertEqual(message.error_summary, "refused", "the hot paths write in SQL: the trigger sums up")
        self.env.cr.execute("UPDATE sync_message SET last_error = %s WHERE id = %s", [long_error, message.id])
        message.invalidate_recordset()
        self.assertEqual(message.error_summary, "x" * 79 + "\u2026", "the same as the ORM's")
        groups = self.env["sync.message"]._read_group([("id", "=", message.id)], ["error_summary"], ["__count"])
        self.assertEqual(groups[0][0], "x" * 79 + "\u2026")

    def test_the_queue_opens_on_what_needs_attention_with_every_view(self):
        action = self.env.ref("sync_queue.sync_message_action")
        self.assertEqual(action.view_mode, "list,form,graph,pivot")
        self.assertEqual(safe_eval(action.context), {"search_default_filter_attention": 1})
        search = etree.fromstring(self.env["sync.message"].get_view(view_type="search")["arch"])
        filters = {node.get("name"): node for node in search.xpath("//filter")}
        for name in ("filter_pending", "filter_waiting", "filter_sending", "filter_sent", "filter_retry",
                     "filter_failed", "filter_cancelled", "filter_done", "filter_today", "filter_last_7_days",
                     "group_error", "group_system", "group_state", "group_data_type", "group_day"):
            self.assertIn(name, filters)
        done = self._queued()
        self.send()
        attention = safe_eval(filters["filter_attention"].get("domain"))
        self.assertNotIn(done, self.env["sync.message"].search(attention))
        self.assertIn(done, self.env["sync.message"].search([("state", "=", "done")]))
        list_arch = etree.fromstring(self.env["sync.message"].get_view(view_type="list")["arch"])
        column = list_arch.xpath("//field[@name='error_summary']")[0]
        self.assertEqual(column.get("width"), "300px", "a long error never squashes the other columns")
        self.assertFalse(list_arch.xpath("//field[@name='last_error']"))

    def test_the_bindings_list_shows_the_local_id(self):
        arch = etree.fromstring(self.env["sync.binding"].get_view(view_type="list")["arch"])
        field = arch.xpath("//field[@name='res_id']")[0]
        self.assertEqual(field.get("widget"), "many2one_reference_integer")
        self.assertEqual(self.env["sync.binding"]._fields["res_id"].string, "Local Record ID")
