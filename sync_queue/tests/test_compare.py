import json
from datetime import timedelta
from unittest.mock import patch

import psycopg2

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user

from ..models import sync_compare_run
from .common import QueueCase


class CompareCase(QueueCase):
    """Contacts sent to the test transport, whose other side holds the last envelope it acknowledged."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the five contacts of these tests, whatever else the database holds
        cls.contact_type.domain = "[('is_company', '=', False), ('email', '=like', '%@cmp.example')]"
        cls.partner.email = "b@cmp.example"
        cls.others = cls.env["res.partner"].create([{"name": f"Contact {i}", "email": f"c{i}@cmp.example"}
                                                    for i in range(4)])
        cls.manager = new_test_user(cls.env, "cmp_manager", groups="base.group_user,sync_base.group_sync_manager")
        cls.user = new_test_user(cls.env, "cmp_user", groups="base.group_user,sync_base.group_sync_user")

    def setUp(self):
        super().setUp()
        self.env["sync.message"].search([]).unlink()
        self.env["sync.message"]._queue_records(self.contact_type, self.contacts(), "upsert")
        self.send()

    def contacts(self):
        return self.env["res.partner"].search([("is_company", "=", False), ("id", "in", (self.partner
                                                                                         | self.others).ids)])

    def compare(self, data_type=None, user=None):
        data_type = (data_type or self.contact_type).with_user(user or self.manager)
        action = data_type.action_compare()
        run = self.env["sync.compare.run"].browse(action["res_id"])
        for _step in range(50):
            if run.state not in ("queued", "running"):
                break
            self.env["sync.compare.run"]._cron_compare()
            run.invalidate_recordset()
        return run

    def held(self, record):
        return self.env["sync.test.transport.call"].search(
            [("system_id", "=", self.system.id), ("envelope", "!=", False)], order="id desc").filtered(
            lambda c: c.envelope["record"]["id"] == record.id)[:1]


class TestCompare(CompareCase):
    def test_in_step_counts_everything_and_keeps_no_line(self):
        run = self.compare()
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual((run.total_count, run.in_step_count, run.drift_count), (5, 5, 0))
        self.assertFalse(run.line_ids)
        self.assertEqual(run.user_id, self.manager)
        self.assertTrue(run.finished_at and run.started_at)

    def test_each_kind_of_drift_has_its_outcome_and_repair_queues_it(self):
        changed, gone, cancelled = self.others[0], self.others[1], self.others[2]
        call = self.held(changed)
        call.envelope = dict(call.envelope, payload=dict(call.envelope["payload"], email="other@there.example"))
        self.held(gone).unlink()
        # a record there whose counterpart here was deleted, and a change here whose message was cancelled
        ghost = self.env["res.partner"].create({"name": "Ghost", "email": "ghost@cmp.example"})
        self.env["sync.message"]._queue_records(self.contact_type, ghost, "upsert")
        self.send()
        ghost_id = ghost.id
        ghost.unlink()
        self.env["sync.message"].search([("res_id", "=", ghost_id)]).unlink()
        cancelled.name = "Renamed here"
        self.env["sync.message"]._queue_records(self.contact_type, cancelled, "upsert")
        self.env["sync.message"].search([("res_id", "=", cancelled.id), ("state", "=", "pending")]).write(
            {"state": "cancelled"})

        run = self.compare()
        self.assertEqual(run.state, "done", run.error)
        found = {(line.outcome, line.res_id) for line in run.line_ids}
        self.assertEqual(found, {("differs", changed.id), ("missing", gone.id), ("only_there", ghost_id),
                                 ("not_sent", cancelled.id)})
        line = run.line_ids.filtered(lambda line: line.outcome == "differs")
        self.assertEqual(line.diff, [{"property": "email", "here": "c0@cmp.example",
                                      "there": "other@there.example"}])
        self.assertIn("email: c0@cmp.example \u2192 other@there.example", line.diff_text)
        self.assertEqual((run.differs_count, run.missing_count, run.only_there_count, run.not_sent_count,
                          run.in_step_count, run.drift_count), (1, 1, 1, 1, 2, 4))

        action = run.with_user(self.manager).action_repair()
        self.assertIn("3 record(s) queued again", action["params"]["message"])
        self.assertIn("1 deletion(s) queued", action["params"]["message"])
        self.assertTrue(all(run.line_ids.mapped("repaired")))
        queued = self.env["sync.message"].search([("state", "=", "pending")])
        self.assertEqual(sorted(zip(queued.mapped("operation"), queued.mapped("res_id"), strict=True)),
                         sorted([("upsert", changed.id), ("upsert", gone.id), ("upsert", cancelled.id),
                                 ("delete", ghost_id)]))
        self.send()
        again = self.compare()
        self.assertEqual((again.drift_count, again.in_step_count), (0, 5), again.line_ids.mapped("outcome"))
        with self.assertRaisesRegex(UserError, "Nothing to repair"):
            run.with_user(self.manager).action_repair()

    def test_only_there_without_deletions_is_reported_not_deleted(self):
        self.contact_type.sync_deletion = False
        record = self.others[3]
        record.is_company = True  # out of the domain here, still there
        run = self.compare()
        self.assertEqual(run.line_ids.mapped("outcome"), ["only_there"])
        action = run.line_ids.with_user(self.manager).action_repair()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("1 skipped (Contacts does not sync deletions)", action["params"]["message"])
        self.assertFalse(run.line_ids.repaired)
        self.assertFalse(self.env["sync.message"].search([("state", "=", "pending")]))

    def test_a_record_that_cannot_be_built_is_not_comparable(self):
        schema = self.contact_type.schema_id
        document = json.loads(schema.schema)
        document["properties"]["email"]["maxLength"] = 20
        schema.schema = json.dumps(document)
        self.others[0].email = "a-much-longer-address@cmp.example"
        run = self.compare()
        errors = run.line_ids.filtered(lambda line: line.outcome == "error")
        self.assertEqual(errors.mapped("res_id"), [self.others[0].id], (run.state, run.error))
        self.assertIn("does not validate", errors.error)
        self.assertEqual((run.error_count, run.in_step_count, run.drift_count), (1, 4, 0))

    def test_stop_then_resume_goes_on_from_where_it_was(self):
        with patch.object(sync_compare_run, "BATCH", 2):
            run = self.env["sync.compare.run"].with_user(self.manager)._start(self.system, self.contact_type)
            self.env["sync.compare.run"]._cron_compare()
            run.invalidate_recordset()
            self.assertEqual((run.state, run.total_count), ("running", 2))
            run.with_user(self.manager).action_stop()
            self.env["sync.compare.run"]._cron_compare()
            self.assertEqual((run.state, run.total_count), ("stopped", 2))
            run.with_user(self.manager).action_resume()
            for _step in range(20):
                self.env["sync.compare.run"]._cron_compare()
            run.invalidate_recordset()
        self.assertEqual((run.state, run.total_count, run.in_step_count), ("done", 5, 5))

    def test_a_failing_other_side_fails_the_run_with_the_reason_and_resume_finishes_it(self):
        self.system.test_outcome = "raise"
        run = self.compare()
        self.assertEqual(run.state, "failed")
        self.assertIn("unreachable", run.error)
        self.system.test_outcome = "acknowledged"
        run.with_user(self.manager).action_resume()
        for _step in range(5):
            self.env["sync.compare.run"]._cron_compare()
        self.assertEqual((run.state, run.in_step_count, run.error), ("done", 5, False))

    def test_a_serialization_failure_is_the_transactions_not_the_runs(self):
        run = self.env["sync.compare.run"].with_user(self.manager)._start(self.system, self.contact_type)
        Transport = type(self.env["sync.transport"])
        with patch.object(Transport, "_compare_records", side_effect=psycopg2.errors.SerializationFailure), \
                self.assertRaises(psycopg2.errors.SerializationFailure):
            self.env["sync.compare.run"]._cron_compare()
        # the cron runner rolls its transaction back and takes the step again: the run is not failed for it
        self.assertNotEqual(run.state, "failed")
        self.assertFalse(run.error)

    def test_a_transport_that_cannot_compare_says_so(self):
        system = self.env["sync.system"].create({"name": "Half", "code": "half", "transport": "test_incomplete"})
        self.assertIn("cannot compare", system.compare_support)
        with self.assertRaisesRegex(UserError, "cannot compare"):
            system.with_user(self.manager).action_compare()
        self.assertFalse(self.system.compare_support)

    def test_only_managers_compare_stop_and_repair(self):
        with self.assertRaises(AccessError):
            self.contact_type.with_user(self.user).action_compare()
        with self.assertRaises(AccessError):
            self.system.with_user(self.user).action_compare()
        run = self.compare()
        self.assertEqual(run.with_user(self.user).drift_count, 0)  # users read results
        for method in ("action_stop", "action_resume", "action_repair"):
            with self.assertRaises(AccessError):
                getattr(run.with_user(self.user), method)()

    def test_the_system_button_compares_every_data_type_once_at_a_time(self):
        action = self.system.with_user(self.manager).action_compare()
        runs = self.env["sync.compare.run"].browse(action.get("res_id") or action["domain"][0][2])
        self.assertEqual(runs.data_type_id, self.contact_type)
        again = self.system.with_user(self.manager).action_compare()
        self.assertEqual(again.get("res_id"), action.get("res_id"), "a second press while it runs opens the same")

    def test_scheduled_comparison_tells_the_managers_and_repairs_when_asked(self):
        self.contact_type.write({"compare_interval": 1, "compare_auto_repair": True})
        self.held(self.others[0]).unlink()
        for _step in range(10):
            self.env["sync.compare.run"]._cron_compare()
        run = self.env["sync.compare.run"].search([("trigger", "=", "scheduled")])
        self.assertEqual((run.state, run.missing_count, run.auto_repair), ("done", 1, True))
        self.assertTrue(run.line_ids.repaired)
        self.assertTrue(self.env["sync.message"].search([("state", "=", "pending"), ("res_id", "=",
                                                                                     self.others[0].id)]))
        note = self.system.message_ids.filtered(lambda m: "scheduled comparison" in (m.body or ""))
        self.assertTrue(note)
        self.assertIn(self.manager.partner_id, note.partner_ids)
        # not again before the interval has passed
        self.env["sync.compare.run"]._cron_compare()
        self.assertEqual(self.env["sync.compare.run"].search_count([("trigger", "=", "scheduled")]), 1)
        self.assertEqual(self.system.last_compare_drift, 1)
        self.assertEqual(self.system.last_compare_run_id, run)

    def test_interval_out_of_range_is_refused_naming_the_range(self):
        with self.assertRaisesRegex(ValidationError, "from 0 \\(never\\) to 8784 hours"):
            self.contact_type.compare_interval = -1

    def test_finished_comparisons_go_with_the_retention_of_messages(self):
        run = self.compare()
        self.env.cr.execute("UPDATE sync_compare_run SET create_date = %s WHERE id = %s",
                            [fields.Datetime.now() - timedelta(days=400), run.id])
        self.env["sync.message"]._cron_vacuum()
        self.assertFalse(run.exists())


class TestCompareRepairLimits(CompareCase):
    """What the attack on reconciliation found: repairs that said more than they did, or could not be made."""

    def drift(self):
        call = self.held(self.others[0])
        call.envelope = dict(call.envelope, payload=dict(call.envelope["payload"], email="x@there.example"))
        run = self.compare()
        self.assertEqual(run.line_ids.mapped("outcome"), ["differs"])
        return run

    def test_nothing_is_said_repaired_where_nothing_can_be_queued(self):
        run = self.drift()
        self.system.active = False
        action = run.with_user(self.manager).action_repair()
        self.assertIn("1 skipped (system Target is archived)", action["params"]["message"])
        self.assertFalse(run.line_ids.repaired)
        self.system.active = True
        self.contact_type.system_ids = [(6, 0, self.env["sync.system"].create(
            {"name": "Other", "code": "other", "transport": "test"}).ids)]
        action = run.with_user(self.manager).action_repair()
        self.assertIn("Contacts no longer sends to Target", action["params"]["message"])
        self.assertFalse(self.env["sync.message"].search([("state", "=", "pending")]))
        self.assertFalse(run.line_ids.repaired)

    def test_a_deletion_that_failed_is_queued_again(self):
        gone = self.others[1]
        gone_id = gone.id
        gone.unlink()
        self.queue()
        deletion = self.env["sync.message"].search([("res_id", "=", gone_id), ("operation", "=", "delete")])
        deletion.write({"state": "failed"})
        run = self.compare()
        line = run.line_ids.filtered(lambda line: line.res_id == gone_id)
        self.assertEqual(line.outcome, "not_sent")
        action = line.with_user(self.manager).action_repair()
        self.assertIn("1 deletion(s) queued", action["params"]["message"])
        self.assertTrue(self.env["sync.message"].search([("res_id", "=", gone_id), ("operation", "=", "delete"),
                                                         ("state", "=", "pending")]))
        self.assertTrue(line.repaired and run.repaired_at)

    def test_repair_automatically_switched_off_during_a_run_repairs_nothing(self):
        self.held(self.others[0]).unlink()
        self.contact_type.write({"compare_interval": 1, "compare_auto_repair": True})
        self.env["sync.compare.run"]._start_due()
        run = self.env["sync.compare.run"].search([("trigger", "=", "scheduled")], limit=1)
        self.contact_type.compare_auto_repair = False
        for _step in range(10):
            self.env["sync.compare.run"]._cron_compare()
        self.assertEqual((run.state, run.missing_count), ("done", 1))
        self.assertFalse(run.line_ids.repaired)
