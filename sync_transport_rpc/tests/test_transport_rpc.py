from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, tagged

from odoo.addons.sync_base import compat
from odoo.addons.sync_base.tests import series
from odoo.addons.sync_transport_rpc.models.sync_system import _POOL

from ..lib import plain
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
        # neither in the export dialog nor in a copy
        described = self.system.fields_get(["rpc_password", "rpc_remote_token"], ["exportable"])
        self.assertEqual({name: value["exportable"] for name, value in described.items()},
                         {"rpc_password": False, "rpc_remote_token": False})
        self.assertFalse(self.system.copy({"code": "copied"}).rpc_password)
        # Odoo 18.0's export ignores ``exportable``: the suite's export refuses credentials, also through a relation
        with self.assertRaisesRegex(UserError, "Credentials are never exported: remove Password or API Key"):
            self.system.export_data(["code", "rpc_password"])
        token = self.system._generate_inbound_token()
        self.assertTrue(token)
        with self.assertRaisesRegex(UserError, "Credentials are never exported"):
            self.system.token_ids.export_data(["name", "system_id/rpc_remote_token"])
        self.assertEqual(self.system.export_data(["code", "rpc_login"])["datas"], [[self.system.code, "sync"]])

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


@tagged("post_install", "-at_install")
class TestPlainAgainstItself(series.AllowAllRequests, HttpCase):
    """Plain mode against a real Odoo: this test server, through its own JSON-RPC endpoint."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.users"].create({
            "name": "Plain user", "login": "plain_user", "password": "plain_user_password",
            compat.GROUP_IDS: [(6, 0, [
                cls.env.ref("base.group_user").id, cls.env.ref("base.group_partner_manager").id,
            ])],
        })
        cls.system = cls.env["sync.system"].create({
            "name": "Itself", "code": "plain_itself", "transport": "rpc", "rpc_protocol": "jsonrpc",
            "rpc_mode": "plain", "rpc_host": "127.0.0.1", "rpc_port": cls.http_port(),
            "rpc_database": cls.env.cr.dbname, "rpc_login": "plain_user", "rpc_password": "plain_user_password",
            "timeout": 20,
        })

    def test_test_connection_to_odoo_19_over_an_old_protocol_suggests_json2(self):
        message = self.system.action_test_connection()["params"]["message"]
        if compat.SERIES >= 19 and self.system.rpc_protocol == "jsonrpc":
            self.assertIn("switch the protocol to JSON-2", message)
        else:
            self.assertNotIn("JSON-2", message)

    def test_one_refused_record_costs_a_few_calls_not_one_per_record(self):
        client = self.system._rpc_client()
        calls = []
        execute = client.execute

        def counting(model, method, *args, **kwargs):
            calls.append(method)
            return execute(model, method, *args, **kwargs)

        client.execute = counting
        self.addCleanup(vars(client).pop, "execute", None)
        upserts = [(index, {"payload": {"name": f"Bisect {index}", "ref": f"BISECT-{index:02d}", "type": "contact"},
                            "record": {"model": "res.partner", "id": 9000 + index}}) for index in range(20)]
        upserts[13][1]["payload"]["type"] = "no-such-type"
        outcomes = plain.apply_batch(client, "res.partner", "bisect", upserts, [])
        self.assertEqual({index for index, outcome in outcomes.items() if outcome.status == "done"},
                         set(range(20)) - {13})
        self.assertEqual(outcomes[13].status, "permanent")
        self.assertIn("no-such-type", outcomes[13].reason)
        # the batch, the 19 others together, the refused one alone, and at most the first row alone
        self.assertLessEqual(calls.count("load"), 4, calls)
        arrived = self.env["res.partner"].search([("ref", "like", "BISECT-")])
        self.assertEqual(len(arrived), 19)
        self.assertEqual(
            set(self.env["ir.model.data"].search([("module", "=", "sync_bisect"), ("model", "=", "res.partner")])
                .mapped("res_id")), set(arrived.ids))
        # sent again (an answer lost): updated, not duplicated
        outcomes = plain.apply_batch(client, "res.partner", "bisect", upserts[:13], [])
        self.assertEqual({o.status for o in outcomes.values()}, {"done"})
        self.assertEqual(self.env["res.partner"].search_count([("ref", "like", "BISECT-")]), 19)

    def test_a_deletion_without_binding_deletes_only_what_we_sent(self):
        """A deletion found by its primary values deletes a remote record only when it carries our identifier."""
        client = self.system._rpc_client()
        foreign = self.env["res.partner"].create({"name": "Theirs", "ref": "LOOKALIKE-1"})
        ours = {"payload": {"name": "Ours", "ref": "LOOKALIKE-2"}, "record": {"model": "res.partner", "id": 9100}}
        self.assertEqual(plain.apply_batch(client, "res.partner", "lookalike", [(0, ours)], [])[0].status, "done")
        sent = self.env["res.partner"].search([("ref", "=", "LOOKALIKE-2")])
        self.assertEqual(len(sent), 1)
        deletions = [
            # the same primary values as a record of theirs that we never sent
            (0, {"payload": {"ref": "LOOKALIKE-1"}, "record": {"model": "res.partner", "id": 9101}}),
            # a record we sent whose acknowledgement was lost: no binding, found by its primary values
            (1, {"payload": {"ref": "LOOKALIKE-2"}, "record": {"model": "res.partner", "id": 9100}}),
        ]
        outcomes = plain.apply_batch(client, "res.partner", "lookalike", [], deletions)
        self.assertEqual([outcomes[0].status, outcomes[1].status], ["done", "done"])
        self.assertTrue(foreign.exists(), "a record that merely looks like ours is never deleted")
        self.assertFalse(sent.exists())

    def test_a_customer_reference_made_of_digits_is_never_a_remote_id(self):
        """{"ref": "<digits>"} is a value of the field ref; only {"$ref": id} is the remote's id."""
        client = self.system._rpc_client()
        foreign = self.env["res.partner"].create({"name": "Theirs, whose id is our customer reference"})
        number = str(foreign.id)
        # a deletion of a record of ours whose customer reference is that number, never acknowledged here
        deletion = (0, {"payload": {"ref": number}, "record": {"model": "res.partner", "id": 9200}})
        self.assertEqual(plain.apply_batch(client, "res.partner", "digits", [], [deletion])[0].status, "done")
        self.assertTrue(foreign.exists(), "the remote record with that id was never ours to delete")
        # a reference to a company of ours with that customer reference, not over there yet: it waits
        contact = {"payload": {"name": "Digits contact", "parent_id": {"ref": number}},
                   "record": {"model": "res.partner", "id": 9201}}
        outcome = plain.apply_batch(client, "res.partner", "digits", [(0, contact)], [])[0]
        self.assertEqual(outcome.status, "transient", outcome.reason)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Digits contact")]))
        # our copy and two of theirs with the same customer reference: ours goes, theirs stay
        ours = {"payload": {"name": "Ours twice", "ref": "TWIN"}, "record": {"model": "res.partner", "id": 9202}}
        self.assertEqual(plain.apply_batch(client, "res.partner", "digits", [(0, ours)], [])[0].status, "done")
        twins = self.env["res.partner"].create([{"name": f"Twin {i}", "ref": "TWIN"} for i in range(2)])
        deletion = (0, {"payload": {"ref": "TWIN"}, "record": {"model": "res.partner", "id": 9202}})
        self.assertEqual(plain.apply_batch(client, "res.partner", "digits", [], [deletion])[0].status, "done")
        self.assertEqual(self.env["res.partner"].search([("ref", "=", "TWIN")]), twins)


@tagged("post_install", "-at_install")
class TestPlainOverJson2(TestPlainAgainstItself):
    """The same plain-mode tests over Odoo 19's JSON-2 API, with an API key (JSON-2 takes no password)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if compat.SERIES < 19:
            return
        user = cls.env["res.users"].search([("login", "=", "plain_user")])
        key = cls.env["res.users.apikeys"].with_user(user).sudo()._generate(None, "json2 test", False)
        cls.system.write({"rpc_protocol": "json2", "rpc_password": key})

    def setUp(self):
        if compat.SERIES < 19:
            self.skipTest(f"Odoo {compat.SERIES}.0 has no JSON-2 API (Odoo 19 and later): its tests run on 19.0")
        super().setUp()

    def test_test_connection_over_json2(self):
        message = self.system.action_test_connection()["params"]["message"]
        self.assertIn("reachable, Odoo 19", message)
        self.assertIn("login plain_user accepted", message)
        self.assertNotIn("deprecates", message)

    def test_a_key_of_another_user_than_the_login_is_refused(self):
        # every call would run as the key's user: an administrator's key under a connector's login must not pass
        admin_key = self.env["res.users.apikeys"].with_user(self.env.ref("base.user_admin")).sudo()._generate(
            None, "json2 admin", False)
        self.system.rpc_password = admin_key
        notification = self.system.action_test_connection()["params"]
        self.assertEqual(notification["type"], "danger")
        self.assertIn("not the key of login 'plain_user'", notification["message"])
        self.assertNotIn(admin_key, notification["message"])

    def test_a_refused_key_is_an_auth_failure(self):
        self.system.rpc_password = "not-a-key"
        with self.assertRaises(RpcError) as caught:
            self.system._rpc_client().execute("res.partner", "search", [])
        self.assertEqual(caught.exception.kind, "auth")
        self.assertNotIn("not-a-key", str(caught.exception))

    def test_errors_keep_their_kind(self):
        client = self.system._rpc_client()
        with self.assertRaises(RpcError) as caught:
            client.execute("res.partner", "write", [1], {"no_such_field": 1})
        self.assertEqual(caught.exception.kind, "permanent")
        with self.assertRaises(RpcError) as caught:
            client.execute("no.such.model", "search", [])
        self.assertEqual(caught.exception.kind, "permanent")
        self.assertEqual(client.execute("res.partner", "search_count", [("id", "=", -1)]), 0)

