import logging
import time
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import QueueCase

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestDashboard(QueueCase):
    """The Dashboard's cards: counts per state, oldest age, throughput, failed click-through, record rules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.env["sync.system"].create({"name": "Other", "code": "other", "transport": "test"})
        cls.contact_type.system_ids = [(4, cls.other.id)]
        cls.company_b = cls.env["res.company"].create({"name": "Company B"})
        cls.system_b = cls.env["sync.system"].create(
            {"name": "B only", "code": "b_only", "transport": "test", "company_id": cls.company_b.id})
        cls.sync_user = mail_new_test_user(cls.env, login="dashboard_user",
                                           groups="base.group_user,sync_base.group_sync_user")
        cls.next_res_id = 100000

    def message(self, system, state, **vals):
        """A message in ``state``, of its own record (unsent messages of one record coalesce)."""
        TestDashboard.next_res_id += 1
        values = {"system_id": system.id, "data_type_id": self.contact_type.id, "model": "res.partner",
                  "res_id": self.next_res_id, "operation": "upsert", "state": state}
        values.update(vals)
        return self.env["sync.message"].create(values)

    def age(self, message, delta):
        self.env.flush_all()
        self.env.cr.execute("UPDATE sync_message SET create_date = %s WHERE id = %s",
                            (fields.Datetime.now() - delta, message.id))
        self.env.invalidate_all()

    def fill(self):
        now = fields.Datetime.now()
        for state, count in (("pending", 2), ("waiting", 1), ("retry", 1), ("sending", 1), ("sent", 1),
                             ("failed", 3), ("cancelled", 1)):
            for _i in range(count):
                self.message(self.system, state)
        self.age(self.message(self.system, "retry"), timedelta(hours=2, minutes=5))
        # final states never count as waiting, however old
        self.age(self.message(self.system, "failed"), timedelta(days=3))
        self.message(self.system, "done", acked_at=now - timedelta(minutes=10))
        self.message(self.system, "done", acked_at=now - timedelta(hours=5))
        self.message(self.system, "done", acked_at=now - timedelta(days=2))
        self.message(self.other, "failed")
        self.age(self.message(self.other, "pending"), timedelta(minutes=7))

    def test_cards_count_per_state_age_and_throughput(self):
        self.fill()
        self.env["ir.config_parameter"].sudo().set_param("sync_queue.alert_pending_minutes", 60)
        systems = (self.system | self.other).with_user(self.sync_user)
        card, other = systems
        self.assertEqual(
            [card.dashboard_pending_count, card.dashboard_waiting_count, card.dashboard_retry_count,
             card.dashboard_sending_count, card.dashboard_sent_count, card.dashboard_failed_count,
             card.dashboard_cancelled_count],
            [2, 1, 2, 1, 1, 4, 1])
        self.assertEqual((card.dashboard_done_hour_count, card.dashboard_done_day_count), (1, 2))
        self.assertEqual(card.dashboard_oldest_pending, "2 h")
        self.assertTrue(card.dashboard_pending_late)
        self.assertEqual((other.dashboard_failed_count, other.dashboard_pending_count), (1, 1))
        self.assertEqual(other.dashboard_oldest_pending, "7 min")
        self.assertFalse(other.dashboard_pending_late)
        self.assertEqual((other.dashboard_done_hour_count, other.dashboard_done_day_count), (0, 0))

    def test_a_threshold_that_is_no_number_is_the_default(self):
        self.age(self.message(self.system, "pending"), timedelta(minutes=61))
        self.env["ir.config_parameter"].sudo().set_param("sync_queue.alert_pending_minutes", "an hour")
        self.assertEqual(self.system.dashboard_oldest_pending, "1 h")
        self.assertTrue(self.system.dashboard_pending_late)

    def test_a_threshold_out_of_range_is_the_default_as_for_the_managers_alert(self):
        self.age(self.message(self.system, "pending"), timedelta(minutes=61))
        settings = self.env["res.config.settings"]
        for raw in ("-3", "0", "nan", "inf", "2.5", "99999999999"):
            with self.subTest(raw=raw):
                self.env["ir.config_parameter"].sudo().set_param("sync_queue.alert_pending_minutes", raw)
                self.system.invalidate_recordset()
                self.assertEqual(self.system._dashboard_alert_minutes(),
                                 settings._sync_queue_param("sync_queue.alert_pending_minutes"))
                self.assertEqual(self.system._dashboard_alert_minutes(), 60)
                self.assertTrue(self.system.dashboard_pending_late, "61 minutes is late against the default 60")
        self.env["ir.config_parameter"].sudo().set_param("sync_queue.alert_pending_minutes", "120")
        self.system.invalidate_recordset()
        self.assertFalse(self.system.with_user(self.sync_user).dashboard_pending_late)

    def test_a_system_without_messages_reads_zero_and_no_age(self):
        card = self.system_b
        self.assertEqual(card.dashboard_failed_count, 0)
        self.assertFalse(card.dashboard_oldest_pending)
        self.assertFalse(card.dashboard_pending_late)

    def test_cards_of_a_page_cost_the_queries_of_one(self):
        self.fill()

        def queries(systems):
            systems.invalidate_recordset()
            before = self.env.cr.sql_log_count
            systems.read(["dashboard_failed_count", "dashboard_oldest_pending", "dashboard_inbound_failed_count"])
            return self.env.cr.sql_log_count - before

        queries(self.system.with_user(self.sync_user))  # the caches of rules and settings warmed
        one = queries(self.system.with_user(self.sync_user))
        two = queries((self.system | self.other).with_user(self.sync_user))
        self.assertEqual(one, two)

    def test_a_user_counts_only_the_messages_he_may_read(self):
        self.message(self.system_b, "failed")
        self.message(self.system_b, "failed")
        # the superuser's cards count them (the administrator's too, once he works in company B)
        self.assertEqual(self.system_b.dashboard_failed_count, 2)
        # a user of the main company neither sees the card nor counts company B's messages
        as_user = self.env["sync.system"].with_user(self.sync_user)
        self.assertNotIn(self.system_b, as_user.search([]))
        self.assertEqual(as_user.browse(self.system_b.id)._dashboard_stats(), {})
        # the message rule applies, not only the system's: a message of company B on a shared system is not his
        shared = self.message(self.system, "failed")
        self.message(self.system, "failed")
        self.env.flush_all()
        self.env.cr.execute("UPDATE sync_message SET company_id = %s WHERE id = %s", (self.company_b.id, shared.id))
        self.env.invalidate_all()
        self.assertEqual(self.system.with_user(self.sync_user).dashboard_failed_count, 1)
        self.assertEqual(self.system.dashboard_failed_count, 2)

    def test_failed_count_clicks_through_to_the_failed_messages_of_its_system(self):
        self.fill()
        action = self.system.with_user(self.sync_user).action_open_failed()
        self.assertEqual(action["res_model"], "sync.message")
        self.assertIn(self.system.name, action["name"])
        found = self.env["sync.message"].with_user(self.sync_user).search(action["domain"])
        self.assertEqual(len(found), 4)
        self.assertEqual(set(found.mapped("state")), {"failed"})
        self.assertEqual(found.system_id, self.system)

    def test_state_counts_click_through_to_their_messages(self):
        self.fill()
        card = self.system.with_user(self.sync_user)
        action = card.with_context(sync_dashboard_state="retry").action_dashboard_messages()
        found = self.env["sync.message"].search(action["domain"])
        self.assertEqual((len(found), set(found.mapped("state"))), (2, {"retry"}))
        # a state that is none of the queue's opens all the system's messages
        action = card.with_context(sync_dashboard_state="bogus").action_dashboard_messages()
        self.assertEqual(self.env["sync.message"].search(action["domain"]).system_id, self.system)

    def test_incoming_failures_are_counted_and_opened(self):
        Inbound = self.env["sync.inbound.message"]
        for uuid, state in (("a", "failed"), ("b", "retry"), ("c", "retry"), ("d", "done")):
            Inbound.create({"message_uuid": uuid, "system_id": self.system.id, "envelope": "{}", "state": state})
        card = self.system.with_user(self.sync_user)
        self.assertEqual((card.dashboard_inbound_failed_count, card.dashboard_inbound_retry_count), (1, 2))
        action = card.action_open_inbound_failed()
        self.assertEqual(len(Inbound.search(action["domain"])), 3)

    def test_dashboard_is_the_first_menu_of_the_app(self):
        root = self.env.ref("sync_base.sync_menu_root")
        menu = self.env.ref("sync_queue.sync_dashboard_menu")
        self.assertEqual(root.child_id.sorted("sequence")[:1], menu)
        self.assertIn(menu.id, self.env["ir.ui.menu"].with_user(self.sync_user)._visible_menu_ids())
        kanban = self.env["sync.system"].with_user(self.sync_user).get_views(
            [(self.env.ref("sync_queue.sync_system_view_kanban_dashboard").id, "kanban")])
        self.assertIn("action_open_failed", kanban["views"]["kanban"]["arch"])


@tagged("post_install", "-at_install")
class TestDashboardLoad(QueueCase):
    """The Dashboard on a queue of 100,000 messages: its cards are read in well under a second."""

    def test_cards_of_a_large_queue_load_fast(self):
        other = self.env["sync.system"].create({"name": "Other", "code": "other", "transport": "test"})
        user = mail_new_test_user(self.env, login="dashboard_load", groups="base.group_user,sync_base.group_sync_user")
        self.env.flush_all()
        self.env.cr.execute("""
            INSERT INTO sync_message (uuid, system_id, company_id, data_type_id, model, res_id, operation, state,
                                      attempt_count, next_attempt_at, create_date, write_date, acked_at)
            SELECT md5(i::text), CASE WHEN i %% 2 = 0 THEN %(a)s ELSE %(b)s END, %(company)s, %(type)s,
                   'res.partner', i, 'upsert', s.state, CASE WHEN s.state = 'pending' THEN 0 ELSE 1 END,
                   now() at time zone 'UTC', now() at time zone 'UTC' - make_interval(secs => i),
                   now() at time zone 'UTC',
                   CASE WHEN s.state = 'done' THEN now() at time zone 'UTC' - make_interval(secs => i) END
              FROM generate_series(1, 100000) i,
                   LATERAL (SELECT CASE WHEN i %% 100 < 90 THEN 'done' WHEN i %% 100 < 95 THEN 'failed'
                                        WHEN i %% 100 < 98 THEN 'pending' WHEN i %% 100 < 99 THEN 'retry'
                                        ELSE 'cancelled' END AS state) s
        """, {"a": self.system.id, "b": other.id, "company": self.system.company_id.id or None,
              "type": self.contact_type.id})
        self.env.cr.execute("ANALYZE sync_message")
        systems = (self.system | other).with_user(user)
        start = time.perf_counter()
        systems.read(["dashboard_failed_count", "dashboard_oldest_pending", "dashboard_done_day_count"])
        elapsed = time.perf_counter() - start
        _logger.info("Dashboard: 2 cards over 100,000 messages read in %.3f s", elapsed)
        self.assertEqual(sum(systems.mapped("dashboard_failed_count")), 5000)
        self.assertLess(elapsed, 1.0)
