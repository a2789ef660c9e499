from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from odoo.addons.sync_transport_rpc.models.sync_system import _POOL

from ..lib.client import OdooRpcClient, RpcError, classify_remote_error
from .common import RpcCase


@tagged("post_install", "-at_install")
class TestTransportRpc(RpcCase):
    def test_transport_is_offered(self):
        selection = dict(self.env["sync.system"]._fields["transport"].selection)
        self.assertIn("rpc", selection)
        self.assertEqual(self.system.transport, "rpc")

    def test_uninstall_policy_archives_and_keeps(self):
        policy = self.env["sync.system"]._fields["transport"].ondelete["rpc"]
        policy(self.system)
        self.assertTrue(self.system.exists())
        self.assertFalse(self.system.active)
        self.assertFalse(self.system.transport)

    def test_credentials_are_for_managers_only(self):
        system = self.system.with_user(self.user)
        self.assertEqual(system.rpc_login, "sync")
        with self.assertRaises(AccessError):
            system.read(["rpc_password"])
        with self.assertRaises(AccessError):
            system.read(["rpc_remote_token"])
        self.assertNotIn("s3cret", repr(self.system._rpc_client()))

    def test_configuration_is_checked(self):
        with self.assertRaises(ValidationError):
            self.system.rpc_port = 70000
        with self.assertRaises(ValidationError):
            self.system.rpc_pool_size = 0

    def test_pool_follows_the_configuration_and_archiving_closes_it(self):
        client = self.system._rpc_client()
        self.assertIs(self.system._rpc_client(), client)
        self.system.rpc_port = 10
        other = self.system._rpc_client()
        self.assertIsNot(other, client)
        self.assertEqual(other.base_url, "http://127.0.0.1:10")
        self.system.active = False
        self.assertNotIn((self.env.cr.dbname, self.system.id), _POOL)

    def test_unreachable_remote_is_transient_and_test_connection_says_what_failed(self):
        self.system.write({"rpc_mode": "suite", "rpc_remote_token": "token"})
        results = self.env["sync.transport"]._send(self.system, [{"id": "x", "type": "t"}])
        self.assertEqual(results[0].status, "transient")
        self.assertIn("cannot reach", results[0].reason)
        self.assertNotIn("s3cret", results[0].reason)
        action = self.system.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("Reachability", action["params"]["message"])
        self.system.rpc_mode = "plain"
        unknown = self.env["sync.transport"]._send(self.system, [{"id": "x", "type": "nothing.here"}])
        self.assertEqual(unknown[0].status, "permanent")
        self.assertIn("nothing.here", unknown[0].reason)

    def test_remote_errors_are_classified(self):
        self.assertEqual(classify_remote_error("psycopg2.errors.SerializationFailure",
                                               "could not serialize access due to concurrent update"), "transient")
        self.assertEqual(classify_remote_error("odoo.exceptions.AccessDenied", "Access Denied"), "auth")
        self.assertEqual(classify_remote_error("odoo.exceptions.ValidationError", "Invalid field 'foo'"),
                         "permanent")
        with self.assertRaises(ValueError):
            OdooRpcClient("jsonrpc", "h", 1, "d", "l", "p", timeout=0)
        self.assertTrue(RpcError("transient", "x").transient)
