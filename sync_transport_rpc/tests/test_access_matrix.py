"""The access matrix of the RPC transport (issue 25): see ``sync_base/tests/test_access_matrix.py``.

The password (or API key) of the remote user and the remote inbound token are
credentials: managers of the system's company read and write them; nobody
exports, copies or tracks them.  Pull watermarks follow their system's
company; their buttons are for managers who may read them.
"""

from xmlrpc.client import Fault

from odoo.tests import HttpCase, tagged

from odoo.addons.sync_base.tests import series
from odoo.addons.sync_base.tests.test_access_matrix import (
    MANAGERS,
    MANAGERS_ANY,
    NOBODY,
    SYNC,
    AccessMatrixMixin,
)

from .common import RpcCase


@tagged("post_install", "-at_install")
class TestAccessMatrix(AccessMatrixMixin, RpcCase):
    system_code = "matrix_rpc"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_matrix_roles()
        cls.system.write({"company_id": cls.matrix_company.id, "rpc_remote_token": "remote-t0ken"})
        library = cls.env["sync.library"].create({"name": "Matrix", "slug": "matrix_rpc"})
        data_type = cls.env["sync.data.type"].create({
            "name": "Partners", "library_id": library.id, "model_id": cls.env["ir.model"]._get("res.partner").id,
            "system_ids": [(6, 0, cls.system.ids)],
            "line_ids": [(0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True})],
        })
        cls.watermark = cls.env["sync.rpc.watermark"].create(
            {"system_id": cls.system.id, "data_type_id": data_type.id, "last_error": "matrix"})
        cls.targets = {"system": cls.system, "watermark": cls.watermark}

    def test_credentials(self):
        rows = []
        for secret in ("rpc_password", "rpc_remote_token"):
            rows += [
                ("system", secret, "read", MANAGERS),
                ("system", secret, "search", MANAGERS),
                ("system", secret, "read_group", MANAGERS),
                ("system", secret, "fields_get", MANAGERS_ANY),
                ("system", secret, "export", NOBODY),
                ("system", secret, "write", MANAGERS, "changed"),
            ]
        rows += [
            ("system", "rpc_login", "read", SYNC),
            ("system", "rpc_host", "write", MANAGERS, "other.example.com"),
        ]
        self.assert_matrix(rows, self.targets)

    def test_a_copied_system_carries_no_credential(self):
        copy = self.system.with_user(self.roles["manager"]).copy({"code": "matrix_rpc_copy"})
        self.assertFalse(copy.sudo().rpc_password)
        self.assertFalse(copy.sudo().rpc_remote_token)

    def test_watermarks(self):
        rows = [
            ("watermark", "last_error", "read", SYNC),
            ("watermark", "last_error", "search", SYNC),
            ("watermark", "data_type_id", "read_group", SYNC),
            ("watermark", "allow_mass_deletion", "write", MANAGERS, True),
            ("watermark", "action_reset", "button", MANAGERS),
            ("watermark", "action_allow_deletions", "button", MANAGERS),
            ("watermark", None, "unlink", MANAGERS),
        ]
        self.assert_matrix(rows, self.targets)

    def test_credentials_are_never_copied_tracked_or_shown_to_others(self):
        self.assert_secrets_stay_put()


@tagged("post_install", "-at_install")
class TestAccessMatrixXmlrpc(series.AllowAllRequests, AccessMatrixMixin, HttpCase):
    """The password over XML-RPC ``execute_kw``, the public path."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_matrix_roles()
        cls.system = cls.env["sync.system"].create({
            "name": "Remote", "code": "matrix_rpc_x", "transport": "rpc", "rpc_protocol": "jsonrpc",
            "rpc_host": "127.0.0.1", "rpc_port": 9, "rpc_database": "remote", "rpc_login": "sync",
            "rpc_password": "s3cret-key", "company_id": cls.matrix_company.id,
        })

    def test_password_over_xmlrpc(self):
        for role in ("admin", "manager", "sync_user", "internal", "portal", "other_manager"):
            with self.subTest(role=role):
                try:
                    answer = self.xmlrpc_object.execute_kw(
                        self.env.cr.dbname, self.roles[role].id, f"matrix_{role}", "sync.system", "read",
                        [self.system.ids, ["rpc_password"]], {})
                except Fault:
                    answer = None
                self.assertEqual(bool(answer and answer[0]["rpc_password"] == "s3cret-key"), role in MANAGERS,
                                 f"{role}: {answer}")
