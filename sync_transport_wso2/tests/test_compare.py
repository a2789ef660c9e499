"""Comparisons through the broker's optional comparison route, relayed to this database's /sync/<code>/digest."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.sync_base import compat

from .common import BrokerCase


@tagged("post_install", "-at_install")
class TestCompareThroughTheBroker(BrokerCase):
    """The broker system compares with "the other side": this same database, reached through the test broker's
    relay, where the broker system is also the caller, relaying for this database's own code (``erp_a``): its
    records arrived here bound as ``erp_a/res.partner/<id>``, as documents relayed by a broker are."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.inbound_user = cls.env["res.users"].create({
            "name": "Broker connector", "login": "wso2_cmp_connector",
            compat.GROUP_IDS: [(6, 0, [cls.env.ref("base.group_user").id,
                                       cls.env.ref("base.group_partner_manager").id])],
        })
        cls.env["ir.config_parameter"].set_param("sync_base.own_code", "erp_a")
        cls.system.write({"user_id": cls.inbound_user.id, "relay_sources": "erp_a"})
        library = cls.env["sync.library"].create({"name": "Compared", "slug": "wso2_compared"})
        cls.data_type = cls.env["sync.data.type"].create({
            "name": "Compared Contacts", "library_id": library.id,
            "model_id": cls.env["ir.model"]._get("res.partner").id, "system_ids": [(6, 0, cls.system.ids)],
            "accept_inbound": True, "trigger": "manual",
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                         (0, 0, {"line_type": "field", "value": "email", "name": "email"})],
        })
        cls.data_type.action_generate_schema()
        cls.ada, cls.bob = cls.env["res.partner"].create([
            {"name": "Ada", "email": "ada@example.com"}, {"name": "Bob", "email": "bob@example.com"}])
        # the sender's records 11 and 12 arrived here as Ada and Bob
        for source_id, partner in ((11, cls.ada), (12, cls.bob)):
            cls.env["sync.binding"].create({"system_id": cls.system.id, "model": "res.partner", "res_id": partner.id,
                                            "remote_model": "res.partner",
                                            "remote_ref": f"erp_a/res.partner/{source_id}"})

    def setUp(self):
        super().setUp()
        self.Transport = self.env["sync.transport"]
        self.token = self.system._generate_inbound_token()
        self.system.wso2_compare_url = f"{self.broker_url}/services/sync/compare"
        self.control(relay={"url": f"{self.base_url()}/sync/broker/messages", "token": self.token})

    def items(self):
        return {11: {"name": "Ada", "email": "ada@example.com"},
                12: {"name": "Bob", "email": "bob@example.com"},
                14: {"name": "Nobody", "email": False},
                13: None}

    def assertRefused(self, *texts):
        with self.assertRaises(UserError) as caught:
            self.Transport._compare_records(self.system, self.data_type, self.items())
        message = caught.exception.args[0]
        for text in ("Broker", *texts):
            self.assertIn(text, message)
        return message

    def test_without_a_comparison_url_the_system_cannot_compare(self):
        self.system.wso2_compare_url = False
        unsupported = self.Transport._compare_unsupported(self.system)
        self.assertIn("Broker", unsupported)
        self.assertIn("no comparison route configured", unsupported)
        self.assertIn("Comparison URL", unsupported)
        self.assertEqual(self.system.compare_support, unsupported)
        with self.assertRaises(UserError):
            self.Transport._compare_records(self.system, self.data_type, self.items())
        self.system.wso2_compare_url = f"{self.broker_url}/services/sync/compare"
        self.assertIsNone(self.Transport._compare_unsupported(self.system))
        self.assertFalse(self.system.compare_support)
        # a broadcast: a comparison asks one target, not several
        self.system.wso2_targets = "shop_eu, shop_us"
        self.assertIn("shop_eu, shop_us", self.Transport._compare_unsupported(self.system))
        self.assertEqual(self.log_paths(), [])

    def test_records_compared_through_the_relay(self):
        self.bob.email = "bob@elsewhere.example"
        self.env.flush_all()  # the relayed request reads the database through the test cursor, not this cache
        results = self.Transport._compare_records(self.system, self.data_type, self.items())
        self.assertEqual(results[11], (True, str(self.ada.id), []))
        self.assertEqual(results[12], (True, str(self.bob.id), [
            {"property": "email", "here": "bob@example.com", "there": "bob@elsewhere.example"}]))
        self.assertEqual(results[14], (False, None, None))
        self.assertEqual(results[13], (False, None, None))
        log = self.broker_log()
        # the digests of all, then the documents of the one whose digest differs
        self.assertEqual([entry["path"] for entry in log],
                         ["/services/sync/compare/digest", "/services/sync/compare/documents"])
        own_code = self.env["sync.system"]._get_own_code()
        headers = log[0]["headers"]
        self.assertEqual(headers["X-Sync-Source"], own_code)
        self.assertEqual(headers["X-Sync-Targets"], "broker")
        self.assertEqual(headers["X-Sync-Type"], self.data_type.message_type)
        self.assertEqual(headers["X-Sync-Compare"], "digest")
        self.assertEqual(self.body(log[0]), {"type": self.data_type.message_type, "model": "res.partner",
                                             "ids": [11, 12, 13, 14], "properties": ["email", "name"],
                                             "source": own_code})
        self.assertEqual(self.body(log[1])["ids"], [12])

    def test_what_the_other_side_holds_page_by_page(self):
        self.assertEqual(self.Transport._compare_holdings(self.system, self.data_type, 0, 1),
                         ([(11, str(self.ada.id))], 11))
        self.assertEqual(self.Transport._compare_holdings(self.system, self.data_type, 11, 5),
                         ([(12, str(self.bob.id))], None))

    def test_with_oauth2_the_comparison_carries_the_token(self):
        self.control(require_token=True, token_ttl=3600)
        self.system.write({"wso2_auth": "oauth2", "wso2_token_url": f"{self.broker_url}/token",
                           "wso2_client_id": "client", "wso2_client_secret": "secret"})
        results = self.Transport._compare_records(self.system, self.data_type, self.items())
        self.assertEqual(results[11], (True, str(self.ada.id), []))
        self.assertTrue(self.broker_log()[0]["headers"]["Authorization"].startswith("Bearer "))

    def test_a_comparison_run_through_the_broker(self):
        # the records this data type sends: two that arrived there as themselves, one that never did
        carl, dora, eve = self.env["res.partner"].create([{"name": name, "email": f"{name.lower()}@wso2.example"}
                                                          for name in ("Carl", "Dora", "Eve")])
        self.env["sync.binding"].search([("system_id", "=", self.system.id)]).unlink()
        for partner in carl | dora:
            self.env["sync.binding"].create({"system_id": self.system.id, "model": "res.partner",
                                             "res_id": partner.id, "remote_model": "res.partner",
                                             "remote_ref": f"erp_a/res.partner/{partner.id}"})
        self.data_type.domain = f"[('id', 'in', {(carl | dora | eve).ids})]"
        self.env.flush_all()
        run = self.run_comparison()
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual((run.total_count, run.in_step_count, run.missing_count, run.drift_count), (3, 2, 1, 1))
        self.assertEqual(run.line_ids.mapped("res_id"), eve.ids)
        self.assertFalse(run.note)  # the broker listed what it holds
        # the broker down: the run fails saying so, and is resumed once it answers again
        self.system.wso2_compare_url = "http://127.0.0.1:9/services/sync/compare"
        run = self.run_comparison()
        self.assertEqual(run.state, "failed")
        self.assertIn("Broker could not be compared through the broker", run.error)
        self.system.wso2_compare_url = f"{self.broker_url}/services/sync/compare"
        run.action_resume()
        run = self.run_comparison(run)
        self.assertEqual((run.state, run.in_step_count, run.missing_count), ("done", 2, 1), run.error)

    def run_comparison(self, run=None):
        Runs = self.env["sync.compare.run"]
        run = run or Runs._start(self.system, self.data_type)
        for _step in range(20):
            if run.state not in ("queued", "running"):
                break
            Runs._cron_compare()
            run.invalidate_recordset()
        return run

    def test_refusals_stop_the_comparison_saying_why(self):
        # the broker down: nothing listens there
        self.system.wso2_compare_url = "http://127.0.0.1:9/services/sync/compare"
        self.assertRefused("cannot reach http://127.0.0.1:9/services/sync/compare/digest")
        self.system.wso2_compare_url = f"{self.broker_url}/services/sync/compare"
        # a broker without the route
        self.system.wso2_compare_url = f"{self.broker_url}/services/nothing"
        self.assertRefused("is not there (HTTP 404)")
        self.system.wso2_compare_url = f"{self.broker_url}/services/sync/compare"
        # the target refuses the broker's token: its own error passes through
        self.control(relay={"url": f"{self.base_url()}/sync/broker/messages", "token": "not-the-token"})
        self.assertRefused("HTTP 401 unauthorized", "bearer token")
        # the broker relays nowhere
        self.control(relay=None)
        self.assertRefused("HTTP 502 no_relay")
        # answers that are not the protocol's
        self.control(script=[{"status": 200, "body": "<html>maintenance</html>"}])
        self.assertRefused("not a JSON object")
        self.control(script=[{"status": 200, "body": {"records": "none"}}])
        self.assertRefused("no 'records' array")
        self.control(script=[{"status": 503, "body": "overloaded", "headers": {"Retry-After": "5"}}])
        self.assertRefused("HTTP 503: overloaded")
        # a client secret is never in what the refusal says
        self.system.write({"wso2_auth": "oauth2", "wso2_token_url": f"{self.broker_url}/token",
                           "wso2_client_id": "client", "wso2_client_secret": "the-secret-itself"})
        message = self.assertRefused("refused the client credentials")
        self.assertNotIn("the-secret-itself", message)

    def log_paths(self):
        return [entry["path"] for entry in self.broker_log()]
