"""Plain mode: property names are the remote model's field names; the admin checks them and is suggested them."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from odoo.exceptions import AccessError
from odoo.tests import Form, HttpCase, tagged

from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.sync_base import compat
from odoo.addons.sync_base.tests import series
from odoo.addons.sync_transport_rpc.lib.client import RpcError

from .common import RpcCase


def _data_type(env, name, system, lines):
    library = env["sync.library"].search([("slug", "=", "remote_fields")]) or env["sync.library"].create(
        {"name": "Remote fields", "slug": "remote_fields"})
    return env["sync.data.type"].create({
        "name": name, "library_id": library.id, "model_id": env["ir.model"]._get("res.partner").id,
        "system_ids": [(6, 0, system.ids)], "trigger": "manual",
        "line_ids": [(0, 0, {"line_type": "field", "value": value, "name": prop}) for value, prop in lines],
    })


@tagged("post_install", "-at_install")
class TestRemoteFieldsUnreachable(RpcCase):
    """The system of RpcCase listens nowhere (port 9)."""

    def test_a_down_remote_is_said_and_blocks_nothing(self):
        data_type = _data_type(self.env, "Down", self.system, [("name", "name"), ("email", "mail")])
        notification = data_type.action_check_remote_fields()["params"]
        self.assertEqual(notification["type"], "warning")
        self.assertIn("Remote: could not check: ", notification["message"])
        self.assertNotIn("s3cret", notification["message"])
        # saving is not refused because the remote is down
        data_type.line_ids[1].name = "email"
        self.assertEqual(data_type.line_ids.mapped("name"), ["name", "email"])

    def test_an_unconfigured_system_is_said(self):
        self.system.rpc_host = False
        data_type = _data_type(self.env, "Unconfigured", self.system, [("name", "name")])
        message = data_type.action_check_remote_fields()["params"]["message"]
        self.assertIn("could not check: System Remote: the RPC host is not set.", message)

    def test_only_managers_check(self):
        data_type = _data_type(self.env, "Managers", self.system, [("name", "name")])
        with self.assertRaises(AccessError):
            data_type.with_user(self.user).action_check_remote_fields()

    def test_plain_mode_suggests_field_names(self):
        data_type = _data_type(self.env, "Plain names", self.system, [("name", "name")])
        self.assertTrue(data_type._keeps_field_names())
        form = Form(data_type)
        with form.line_ids.new() as line:
            line.line_type = "reference"
            line.value = "country_id"
            self.assertEqual(line.name, "country_id")
        with form.line_ids.new() as line:
            line.value = "parent_id.ref"
            self.assertEqual((line.line_type, line.name), ("default", "parent_id_ref"))
        # suite mode: the remote suite maps properties itself, so friendlier names are suggested
        self.system.rpc_mode = "suite"
        data_type.invalidate_recordset()
        self.assertFalse(data_type._keeps_field_names())
        form = Form(data_type)
        with form.line_ids.new() as line:
            line.line_type = "reference"
            line.value = "country_id"
            self.assertEqual(line.name, "country")


@tagged("post_install", "-at_install")
class TestRemoteFieldsReachable(series.AllowAllRequests, HttpCase):
    """A reachable plain Odoo: this test server, through its own JSON-RPC endpoint."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.env["res.users"].create({
            "name": "Fields user", "login": "fields_user", "password": "fields_user_password",
            compat.GROUP_IDS: [(6, 0, [
                cls.env.ref("base.group_user").id, cls.env.ref("base.group_partner_manager").id,
            ])],
        })
        cls.system = cls.env["sync.system"].create({
            "name": "Itself", "code": "fields_itself", "transport": "rpc", "rpc_protocol": "jsonrpc",
            "rpc_mode": "plain", "rpc_host": "127.0.0.1", "rpc_port": cls.http_port(),
            "rpc_database": cls.env.cr.dbname, "rpc_login": "fields_user", "rpc_password": "fields_user_password",
            "timeout": 20,
        })
        cls.manager = mail_new_test_user(cls.env, login="fields_manager", groups="sync_base.group_sync_manager")

    def test_unknown_properties_are_listed_then_none(self):
        data_type = _data_type(self.env, "Reachable", self.system, [("name", "name"), ("email", "mail")])
        data_type.write({"line_ids": [(0, 0, {"line_type": "reference", "value": "country_id", "name": "country",
                                              "sequence": 20})]})
        notification = data_type.with_user(self.manager).action_check_remote_fields()["params"]
        self.assertEqual(notification["type"], "warning")
        self.assertIn("Itself: res.partner there has no field mail, country", notification["message"])
        data_type.line_ids.filtered(lambda line: line.name == "mail").name = "email"
        data_type.line_ids.filtered(lambda line: line.name == "country").name = "country_id"
        notification = data_type.with_user(self.manager).action_check_remote_fields()["params"]
        self.assertEqual(notification["type"], "success", notification["message"])
        self.assertIn("every property is a field of res.partner", notification["message"])

    def test_the_remote_model_is_the_one_checked(self):
        data_type = _data_type(self.env, "Remote model", self.system, [("name", "name"), ("email", "email")])
        data_type.remote_model = "res.partner.category"
        message = data_type.action_check_remote_fields()["params"]["message"]
        self.assertIn("res.partner.category there has no field email", message)
        data_type.remote_model = "no.such.model"
        message = data_type.action_check_remote_fields()["params"]["message"]
        self.assertIn("could not check: ", message)


class _GarbageHandler(BaseHTTPRequestHandler):
    """A remote answering the body of its server's ``scenario`` to everything (authenticate excepted)."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        scenario = self.server.scenario
        if b'"authenticate"' in raw and scenario not in ("list", "error_str"):
            body, status, headers = json.dumps({"jsonrpc": "2.0", "result": 2}).encode(), 200, {}
        elif scenario == "redirect":
            body, status, headers = b"", 307, {"Location": "/jsonrpc"}
        elif scenario == "gzip_garbage":
            body, status, headers = b"not gzip at all", 200, {"Content-Encoding": "gzip"}
        else:
            body, status, headers = {"list": b"[1, 2]", "error_str": b'{"error": "boom"}',
                                     "error_data_str": b'{"error": {"data": "boom"}}'}[scenario], 200, {}
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@tagged("post_install", "-at_install")
class TestRemoteFieldsGarbage(RpcCase):
    """A remote answering garbage: the check says why it could not check, never a traceback."""

    system_code = "garbage_rpc"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), _GarbageHandler)
        thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        thread.start()
        cls.addClassCleanup(cls.server.server_close)
        cls.addClassCleanup(cls.server.shutdown)
        cls.system.write({"rpc_port": cls.server.server_address[1], "rpc_mode": "plain", "timeout": 2})

    def test_garbage_answers_are_reasons(self):
        data_type = _data_type(self.env, "Garbage", self.system, [("name", "name")])
        expected = {
            "list": "not a JSON-RPC answer", "error_str": "answered an error: boom",
            "error_data_str": "answered an error: {'data': 'boom'}",
            "redirect": "redirects without end", "gzip_garbage": "cannot be decoded",
        }
        for scenario, reason in expected.items():
            with self.subTest(scenario=scenario):
                self.server.scenario = scenario
                self.system._rpc_client().close()
                self.system.invalidate_recordset()
                notification = data_type.action_check_remote_fields()["params"]
                self.assertEqual(notification["type"], "warning")
                self.assertIn("could not check: ", notification["message"])
                self.assertIn(reason, notification["message"])
                self.assertNotIn("s3cret", notification["message"])

    def test_garbage_is_transient_for_the_send_path(self):
        client = self.system._rpc_client()
        for scenario in ("list", "error_str", "error_data_str", "redirect", "gzip_garbage"):
            with self.subTest(scenario=scenario):
                self.server.scenario = scenario
                with self.assertRaises(RpcError) as caught:
                    client.call("object", "execute_kw", "x", 2, "k", "res.partner", "read", [[1]], {})
                self.assertEqual(caught.exception.kind, "transient", str(caught.exception))
