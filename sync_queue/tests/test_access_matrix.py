"""The access matrix of the queue (issue 25): see ``sync_base/tests/test_access_matrix.py``.

Messages, attempts, responses and incoming messages are the record of what
happened: the suite writes them (as the superuser, mostly in SQL), users read
them and act through buttons.  Envelopes are readable by the synchronization
users of the system's company, who watch the queue: a document holds only
what a manager could read when he mapped it (``sync_mapping``'s checks at
save).  Captured changes are internal bookkeeping, read by managers only.
"""

import json
import uuid
from xmlrpc.client import Fault

from odoo.tests import HttpCase, tagged

from odoo.addons.sync_base.lib import envelope as envelope_lib
from odoo.addons.sync_base.tests import series
from odoo.addons.sync_base.tests.test_access_matrix import (
    MANAGERS,
    MANAGERS_ANY,
    NOBODY,
    SYNC,
    AccessMatrixMixin,
)

from .common import QueueCase


@tagged("post_install", "-at_install")
class TestAccessMatrix(AccessMatrixMixin, QueueCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_matrix_roles()
        cls.system.company_id = cls.matrix_company

    def setUp(self):
        super().setUp()
        self.partner.email = "matrix@example.com"
        self.queue()
        self.send_through_a_failure()
        self.message = self.messages(res_id=self.partner.id)
        self.assertTrue(self.message.envelope and self.message.attempt_ids)
        self.inbound = self.env["sync.inbound.message"].create({
            "message_uuid": str(uuid.uuid4()), "system_id": self.system.id, "envelope": '{"id": "x"}',
            "answer": {"status": "error"}, "error": "refused", "state": "failed",
        })
        self.response = self.env["sync.response"].create({
            "message_uuid": self.message.uuid, "message_id": self.message.id, "system_id": self.system.id,
            "status": "done", "body": {"ok": True},
        })
        self.change = self.env["sync.change"].create({"model": "res.partner", "res_id": self.partner.id,
                                                      "operation": "write"})
        self.targets = {"message": self.message, "attempt": self.message.attempt_ids[:1], "inbound": self.inbound,
                        "response": self.response, "change": self.change, "system": self.system,
                        "data_type": self.contact_type}

    def test_outgoing_messages(self):
        rows = [
            ("message", "state", "read", SYNC),
            ("message", "envelope", "read", SYNC),
            ("message", "envelope_pretty", "read", SYNC),
            ("message", "envelope", "search", SYNC),
            ("message", "state", "read_group", SYNC),
            ("message", "envelope", "export", SYNC),
            ("message", "envelope", "write", NOBODY, '{"id": "forged"}'),
            ("message", "res_id", "write", NOBODY, 1),
            ("message", "last_error", "write", MANAGERS, "a note"),
            ("message", None, "unlink", MANAGERS),
            # messages are made by the queue: nobody forges one by hand
            ("message", None, "create", NOBODY, {
                "uuid": str(uuid.uuid4()), "system_id": self.system.id, "data_type_id": self.contact_type.id,
                "model": "res.partner", "res_id": self.partner.id, "operation": "upsert", "envelope": "{}"}),
            ("message", "action_retry", "button", SYNC),
            ("message", "action_cancel", "button", SYNC),
            ("message", "action_requeue", "button", SYNC),
        ]
        self.assert_matrix(rows, self.targets)

    def test_attempts_responses_and_changes(self):
        rows = [
            ("attempt", "error", "read", SYNC),
            ("attempt", "outcome", "search", SYNC),
            ("attempt", "outcome", "write", NOBODY, "forged"),
            ("attempt", None, "create", NOBODY, {"message_id": self.message.id, "outcome": "forged"}),
            ("response", "body", "read", SYNC),
            ("response", "status", "read_group", SYNC),
            ("response", "reason", "write", NOBODY, "forged"),
            ("response", None, "create", NOBODY,
             {"message_uuid": self.message.uuid, "message_id": self.message.id, "status": "done"}),
            ("change", "model", "read", MANAGERS_ANY),
            ("change", "model", "write", NOBODY, "res.users"),
            ("change", None, "create", NOBODY, {"model": "res.partner", "res_id": 1, "operation": "write"}),
            ("change", None, "unlink", NOBODY),
        ]
        self.assert_matrix(rows, self.targets)

    def test_incoming_messages(self):
        rows = [
            ("inbound", "envelope", "read", SYNC),
            ("inbound", "answer", "read", SYNC),
            ("inbound", "envelope", "search", SYNC),
            ("inbound", "state", "read_group", SYNC),
            ("inbound", "envelope", "write", NOBODY, '{"id": "forged"}'),
            ("inbound", None, "create", NOBODY,
             {"message_uuid": "forged", "system_id": self.system.id, "envelope": "{}"}),
            ("inbound", None, "unlink", MANAGERS),
            ("inbound", "action_retry", "button", MANAGERS),
            ("inbound", "action_open_record", "button", SYNC),
        ]
        self.assert_matrix(rows, self.targets)

    def test_queue_buttons_of_systems_and_data_types(self):
        rows = [
            ("system", "action_send_now", "button", SYNC),
            ("system", "queue_pending_count", "read", SYNC),
            ("system", "inbound_max_bytes", "write", MANAGERS, 1000000),
            ("data_type", "action_queue_all", "button", MANAGERS_ANY),
            ("data_type", "accept_inbound", "write", MANAGERS_ANY, True),
        ]
        self.assert_matrix(rows, self.targets)

    def test_credentials_are_never_copied_tracked_or_shown_to_others(self):
        self.assert_secrets_stay_put()


@tagged("post_install", "-at_install")
class TestAccessMatrixHttp(series.AllowAllRequests, AccessMatrixMixin, HttpCase):
    """The public paths: XML-RPC for envelopes and buttons, the inbound endpoint for the inbound user."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls._setup_matrix_roles()
        System = cls.env["sync.system"]
        cls.shop = System.create({"name": "Matrix Shop", "code": "matrix_shop", "transport": "test",
                                  "company_id": cls.matrix_company.id, "user_id": cls.roles["inbound"].id})
        cls.token = cls.shop._generate_inbound_token()
        library = cls.env["sync.library"].create({"name": "Matrix", "slug": "matrix"})
        cls.contact_type = cls.env["sync.data.type"].create({
            "name": "Matrix Contacts", "library_id": library.id,
            "model_id": cls.env["ir.model"]._get("res.partner").id, "system_ids": [(6, 0, cls.shop.ids)],
            "accept_inbound": True,
            "line_ids": [(0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True}),
                         (0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                         (0, 0, {"line_type": "field", "value": "parent_id", "name": "parent"})],
        })
        cls.contact_type.action_generate_schema()

    def execute(self, role, model, method, *args, **kwargs):
        try:
            return True, self.xmlrpc_object.execute_kw(self.env.cr.dbname, self.roles[role].id, f"matrix_{role}",
                                                       model, method, list(args), kwargs)
        except Fault as exc:
            return False, exc

    def post(self, ref, **payload):
        envelope = envelope_lib.build(self.contact_type.message_type, "upsert", "matrix_shop", ["main"],
                                      "res.partner", abs(hash(ref)) % 100000 + 1, {"ref": ref, "name": ref, **payload})
        response = self.url_open("/sync/matrix_shop/messages", data=json.dumps(envelope).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"})
        return response

    def test_envelopes_and_buttons_over_xmlrpc(self):
        incoming = self.env["sync.inbound.message"].create({
            "message_uuid": "matrix-mx1", "system_id": self.shop.id, "envelope": '{"id": "matrix-mx1"}',
            "state": "retry"})
        for role, allowed in (("sync_user", True), ("manager", True), ("internal", False), ("portal", False),
                              ("inbound", False), ("other_user", False), ("other_manager", False)):
            with self.subTest(role=role):
                ok, answer = self.execute(role, "sync.inbound.message", "read", incoming.ids, ["envelope"])
                self.assertEqual(ok, allowed, f"{role} read an envelope: {answer}")
                ok, answer = self.execute(role, "sync.inbound.message", "action_retry", incoming.ids)
                self.assertEqual(ok, role == "manager", f"{role} pressed Retry: {answer}")

    def test_the_inbound_user_applies_documents_without_a_synchronization_group(self):
        inbound = self.roles["inbound"]
        self.assertFalse(inbound.has_group("sync_base.group_sync_user"))
        received = self.post("MX2")
        self.assertEqual(received.status_code, 200, received.text)
        self.assertEqual(received.json()["status"], "done", received.text)
        partner = self.env["res.partner"].search([("ref", "=", "MX2")])
        self.assertEqual(partner.create_uid, inbound, "the document was not applied as the inbound user")
        # and over RPC, the same user reaches none of the suite's models
        for model in ("sync.system", "sync.message", "sync.inbound.message", "sync.data.type", "sync.binding"):
            with self.subTest(model=model):
                ok, answer = self.execute("inbound", model, "search_read", [], ["id"])
                self.assertFalse(ok, f"the inbound user read {model}: {answer}")

    def test_an_inbound_reference_never_reaches_a_record_the_inbound_user_cannot_read(self):
        hidden = self.env["res.partner"].create({"name": "Matrix Hidden", "is_company": True,
                                                 "company_id": self.other_company.id})
        received = self.post("MX3", parent=hidden.id)
        # refused or applied without the link; never refused because the inbound user is no synchronization user
        self.assertNotIn("sync.data.type", received.text)
        partner = self.env["res.partner"].search([("ref", "=", "MX3")])
        self.assertNotEqual(partner.parent_id, hidden, f"linked to a record of another company: {received.text}")
