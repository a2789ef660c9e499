import logging

from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from ..lib.states import SEND_CRONS
from ..models import res_config_settings
from ..models.res_config_settings import QUEUE_PARAMS
from .common import QueueCase

LOGGER = "odoo.addons.sync_queue.models.res_config_settings"


@tagged("post_install", "-at_install")
class TestSettingsRange(QueueCase):
    """The queue's settings: refused out of range with a message, never changed silently; a bad value stored
    some other way is shown, must be corrected before saving, and is not used by the schedulers."""

    def setUp(self):
        super().setUp()
        self.params = self.env["ir.config_parameter"].sudo()
        res_config_settings._WARNED.clear()
        self.addCleanup(res_config_settings._WARNED.clear)

    def active_send_crons(self):
        return [self.env.ref(xmlid).active for xmlid in SEND_CRONS]

    def test_send_schedulers_out_of_range_are_refused_and_nothing_changes(self):
        before = self.active_send_crons()
        for value in (9, 0, -1):
            with self.subTest(value=value), self.assertRaises(ValidationError) as caught, self.env.cr.savepoint():
                self.env["res.config.settings"].create({"sync_send_workers": value}).execute()
            self.assertEqual(str(caught.exception),
                             f"Send Schedulers must be between 1 and 4; you entered {value}.")
            self.assertEqual(self.active_send_crons(), before, "9 never becomes 4, nor 0 becomes 1")

    def test_send_schedulers_at_the_bounds(self):
        for value, expected in ((1, [True, False, False, False]), (4, [True, True, True, True])):
            with self.subTest(value=value):
                self.env["res.config.settings"].create({"sync_send_workers": value}).execute()
                self.assertEqual(self.active_send_crons(), expected)
                self.assertEqual(self.env["res.config.settings"].create({}).sync_send_workers, value)

    def test_huge_values_get_the_range_message_not_a_database_error(self):
        for key, (name, rng) in QUEUE_PARAMS.items():
            label = self.env["res.config.settings"]._fields[name].string
            stored = self.params.get_param(key)
            self.assertIsNotNone(rng.high, f"{name} has an upper bound")
            for value in (1000000, 2147483648, 10 ** 12):
                with (self.subTest(setting=name, value=value), self.assertRaises(ValidationError) as caught,
                          self.env.cr.savepoint()):
                    self.env["res.config.settings"].create({name: value}).execute()
                self.assertEqual(str(caught.exception),
                                 f"{label} must be between {rng.low} and {rng.high}; you entered {value}.")
                self.assertEqual(self.params.get_param(key), stored, "nothing is stored")

    def test_the_vacuum_runs_at_the_longest_keep(self):
        self.env["res.config.settings"].create({"sync_vacuum_days": 36500, "sync_inbound_keep_days": 36500}).execute()
        self.env["sync.message"]._cron_vacuum()
        self.assertEqual(self.env["res.config.settings"]._sync_queue_param("sync_queue.vacuum_days"), 36500)

    def test_each_parameter_setting_is_refused_out_of_range_and_kept_at_its_bounds(self):
        for key, (name, rng) in QUEUE_PARAMS.items():
            label = self.env["res.config.settings"]._fields[name].string
            stored = self.params.get_param(key)
            bad = [rng.low - 1] + ([rng.high + 1] if rng.high is not None else [])
            for value in bad:
                with (self.subTest(setting=name, value=value), self.assertRaises(ValidationError) as caught,
                          self.env.cr.savepoint()):
                    self.env["res.config.settings"].create({name: value}).execute()
                expected = (f"between {rng.low} and {rng.high}" if rng.high is not None else f"at least {rng.low}")
                self.assertEqual(str(caught.exception), f"{label} must be {expected}; you entered {value}.")
                self.assertEqual(self.params.get_param(key), stored, "nothing is stored")
            for value in (rng.low, rng.high or 1000):
                with self.subTest(setting=name, value=value):
                    self.env["res.config.settings"].create({name: value}).execute()
                    self.assertEqual(self.params.get_param(key), str(value))
                    self.assertEqual(self.env["res.config.settings"]._sync_queue_param(key), value)

    def test_labels_give_units(self):
        labels = {name: field["string"] for name, field in self.env["res.config.settings"].fields_get(
            [name for name, _rng in QUEUE_PARAMS.values()], ["string"]).items()}
        self.assertEqual(labels, {
            "sync_send_time_budget": "Send Time Budget (seconds)",
            "sync_lease_seconds": "Sending Lease (seconds)",
            "sync_vacuum_days": "Keep Finished Messages (days)",
            "sync_inbound_keep_days": "Keep Incoming Messages (days)",
            "sync_alert_pending_minutes": "Alert After (minutes)",
        })
        labels = self.env["sync.system"].fields_get(["inbound_max_bytes"], ["string"])
        self.assertEqual(labels["inbound_max_bytes"]["string"], "Inbound Size Limit (bytes)")

    def test_a_bad_stored_value_is_shown_and_must_be_corrected_before_saving(self):
        self.params.set_param("sync_queue.vacuum_days", "-1")
        # the screen opens and shows what is stored
        form = Form(self.env["res.config.settings"])
        self.assertEqual(form.sync_vacuum_days, -1)
        with self.assertRaisesRegex(ValidationError, r"Keep Finished Messages \(days\) must be between 1 and 36500; "
                                                     r"you entered -1\."), self.env.cr.savepoint():
            form.save()
        self.assertEqual(self.params.get_param("sync_queue.vacuum_days"), "-1")
        form.sync_vacuum_days = 14
        form.save().execute()
        self.assertEqual(self.params.get_param("sync_queue.vacuum_days"), "14")

    def test_readers_use_the_default_for_a_bad_stored_value_and_say_so_once(self):
        settings = self.env["res.config.settings"]
        self.params.set_param("sync_queue.vacuum_days", "-1")
        with self.assertLogs(LOGGER, logging.WARNING) as logs:
            self.assertEqual(settings._sync_queue_param("sync_queue.vacuum_days"), 30)
        self.assertIn("sync_queue.vacuum_days is '-1', out of range (valid: 1..36500): using 30", logs.output[0])
        with self.assertNoLogs(LOGGER, logging.WARNING):
            self.assertEqual(settings._sync_queue_param("sync_queue.vacuum_days"), 30)
        self.params.set_param("sync_queue.send_time_budget", "lots")
        with self.assertLogs(LOGGER, logging.WARNING) as logs:
            self.assertEqual(settings._sync_queue_param("sync_queue.send_time_budget"), 60)
        self.assertIn("not a number", logs.output[0])
        self.params.set_param("sync_queue.send_time_budget", "5")
        self.assertEqual(self.env["sync.message"]._settings()["budget"], 5)

    def test_vacuum_keeps_messages_when_its_parameter_is_bad(self):
        self.partner.name = "Brandon II"
        self.queue()
        message = self.messages()
        self.assertEqual(len(message), 1)
        self.env.flush_all()
        self.env.cr.execute("UPDATE sync_message SET state = 'done', write_date = now() - interval '10 days' "
                            "WHERE id = %s", [message.id])
        self.env.invalidate_all()
        # -1 once meant a day (max(-1, 1)) and removed the message: the default (30 days) keeps it
        self.params.set_param("sync_queue.vacuum_days", "-1")
        with self.assertLogs(LOGGER, logging.WARNING):
            self.env["sync.message"]._cron_vacuum()
        self.assertTrue(message.exists())
        self.params.set_param("sync_queue.vacuum_days", "abc")  # once a ValueError in the cron, every day
        with self.assertLogs(LOGGER, logging.WARNING):
            self.env["sync.message"]._cron_vacuum()
        self.assertTrue(message.exists())
        self.params.set_param("sync_queue.vacuum_days", "5")
        self.env["sync.message"]._cron_vacuum()
        self.assertFalse(message.exists())

    def test_system_inbound_size_limit_range(self):
        for value in (1023, 100 * 1024 * 1024 + 1):
            with self.subTest(value=value), self.assertRaises(ValidationError) as caught, self.env.cr.savepoint():
                self.system.inbound_max_bytes = value
                self.system.flush_recordset()
            self.assertEqual(str(caught.exception), "System Target: Inbound Size Limit (bytes) must be between "
                                                    f"1024 and 104857600; you entered {value}.")
        for value in (1024, 100 * 1024 * 1024):
            self.system.inbound_max_bytes = value
            self.assertEqual(self.system.inbound_max_bytes, value)
