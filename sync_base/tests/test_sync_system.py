from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import SyncCase


@tagged("post_install", "-at_install")
class TestSyncSystem(SyncCase):
    def test_defaults(self):
        system = self._create_system("shop_eu")
        self.assertEqual(system.batch_size, 100)
        self.assertEqual(system.retry_delays, "60,300,900,3600,21600")
        self.assertEqual(system._get_retry_delays(), [60, 300, 900, 3600, 21600])
        self.assertEqual(system.max_attempts, 8)
        self.assertEqual(system.timeout, 30)
        self.assertEqual(system.ack_timeout, 3600)
        self.assertFalse(system.paused)
        self.assertEqual(system.company_id, self.env.company)

    def test_code_is_validated(self):
        system = self._create_system("ok")
        for bad in ("Shop EU", "shop/eu", "shop.eu", "ÉCOLE"):
            with self.subTest(code=bad), self.assertRaisesRegex(ValidationError, "use lowercase letters"):
                system.write({"code": bad})
        system = self._create_system("shop-eu_2")
        self.assertEqual(system.code, "shop-eu_2")

    @mute_logger("odoo.sql_db")
    def test_code_is_unique(self):
        self._create_system("shop_eu")
        with self.assertRaises(IntegrityError), self.env.cr.savepoint():
            self._create_system("shop_eu")

    def test_retry_delays_are_validated(self):
        system = self._create_system("shop_eu")
        for bad, detail in (("60,,300", "#2"), ("abc", "#1"), ("60;300", "#1"), ("0", "at least 1")):
            with self.subTest(delays=bad), self.assertRaises(ValidationError) as info:
                system.retry_delays = bad
                system.flush_recordset()
            self.assertIn("Retry delays of system", str(info.exception))
            self.assertIn(detail, str(info.exception))
        system.retry_delays = "10, 20"
        self.assertEqual(system._get_retry_delays(), [10, 20])

    def test_own_code_defaults_to_database_name(self):
        self.env["ir.config_parameter"].set_param("sync_base.own_code", False)
        self.assertEqual(self.env["sync.system"]._get_own_code(), self.env.cr.dbname.lower())
        self.env["ir.config_parameter"].set_param("sync_base.own_code", "erp_main")
        self.assertEqual(self.env["sync.system"]._get_own_code(), "erp_main")

    def test_targets_default_to_own_code(self):
        self._skip_without_test_transport()
        system = self._create_system("shop_eu")
        self.assertEqual(system._get_targets(), ["shop_eu"])

    def test_test_connection_success_and_failure_notifications(self):
        self._skip_without_test_transport()
        system = self._create_system("shop_eu")
        action = system.action_test_connection()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(action["params"]["type"], "success")
        system.test_ping_error = "connection refused by 127.0.0.1:9"
        params = system.action_test_connection()["params"]
        self.assertEqual(params["type"], "danger")
        self.assertIn("failed", params["title"])
        self.assertEqual(params["message"], "connection refused by 127.0.0.1:9")
        self.assertNotIn("Traceback", params["message"])

    def test_test_connection_without_hook_or_transport(self):
        self._skip_without_test_transport()
        system = self._create_system("half_done", transport="test_incomplete")
        params = system.action_test_connection()["params"]
        self.assertEqual(params["type"], "danger")
        self.assertIn("does not implement the hook sync.transport._ping()", params["message"])
        with self.assertRaisesRegex(NotImplementedError, r"sync.transport._send\(\)"):
            system._send_envelopes([{"id": "x"}])
        system.transport = False
        params = system.action_test_connection()["params"]
        self.assertEqual(params["type"], "danger")
        self.assertIn("has no transport", params["message"])

    def test_send_envelopes_through_transport(self):
        self._skip_without_test_transport()
        system = self._create_system("shop_eu")
        envelopes = [{"id": f"id-{i}", "record": {"model": "res.partner", "id": i}} for i in (1, 2)]
        results = system._send_envelopes(envelopes)
        self.assertEqual([r.status for r in results], ["acknowledged", "acknowledged"])
        self.assertEqual(results[1].remote_ref, "test/2")
        calls = self.env["sync.test.transport.call"].search([("system_id", "=", system.id)])
        self.assertEqual(calls.mapped("message_uuid"), ["id-1", "id-2"])

    def test_uninstall_policy_archives_and_keeps(self):
        self._skip_without_test_transport()
        system = self._create_system("shop_eu")
        system._on_transport_uninstalled()
        self.assertFalse(system.active)
        self.assertFalse(system.transport)
        self.assertTrue(system.exists())
