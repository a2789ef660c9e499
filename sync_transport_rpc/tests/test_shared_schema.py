"""Two data types sharing one schema, sent in plain mode to a real Odoo: this test server, over JSON-RPC."""

from odoo.tests import HttpCase, tagged

from odoo.addons.sync_base import compat
from odoo.addons.sync_base.tests import series


@tagged("post_install", "-at_install")
class TestSharedSchemaPlain(series.AllowAllRequests, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.env["ir.config_parameter"].sudo().set_param("sync_base.own_code", "shared_src")
        cls.env["res.users"].create({
            "name": "Shared schema user", "login": "shared_schema_user", "password": "shared_schema_password",
            compat.GROUP_IDS: [(6, 0, [
                cls.env.ref("base.group_user").id, cls.env.ref("base.group_partner_manager").id,
            ])],
        })
        cls.system = cls.env["sync.system"].create({
            "name": "Itself", "code": "shared_itself", "transport": "rpc", "rpc_protocol": "jsonrpc",
            "rpc_mode": "plain", "rpc_host": "127.0.0.1", "rpc_port": cls.http_port(),
            "rpc_database": cls.env.cr.dbname, "rpc_login": "shared_schema_user",
            "rpc_password": "shared_schema_password", "timeout": 20, "batch_size": 10,
        })
        library = cls.env["sync.library"].create({"name": "Shared", "slug": "shared_schema"})
        # one generic schema for both: the same message type
        schema = cls.env["sync.schema"].create({"library_id": library.id, "name": "Any object", "slug": "doc",
                                                "schema": '{"type": "object"}'})
        Model = cls.env["ir.model"]
        cls.tag_type = cls.env["sync.data.type"].create({
            "name": "Tags", "library_id": library.id, "model_id": Model._get("res.partner.category").id,
            "schema_id": schema.id, "system_ids": [(6, 0, cls.system.ids)], "trigger": "manual",
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True})],
        })
        cls.partner_type = cls.env["sync.data.type"].create({
            "name": "Partners", "library_id": library.id, "model_id": Model._get("res.partner").id,
            "schema_id": schema.id, "system_ids": [(6, 0, cls.system.ids)], "trigger": "manual",
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                         (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True}),
                         (0, 0, {"line_type": "reference", "value": "category_id", "name": "category_id",
                                 "reference_id": cls.tag_type.id})],
        })
        cls.tag = cls.env["res.partner.category"].create({"name": "Shared schema tag"})
        cls.partner = cls.env["res.partner"].create({"name": "Shared schema partner", "ref": "SHARED-SCHEMA-1"})

    def send(self):
        Message = self.env["sync.message"]
        # without a worker thread: this test's server answers the calls on the test's own cursor
        while Message._send_batch(self.system, Message._settings())[0]:
            pass
        self.env.invalidate_all()

    def binding(self, record):
        return self.env["sync.binding"].search([("system_id", "=", self.system.id), ("model", "=", record._name),
                                                ("res_id", "=", record.id)])

    def test_each_message_goes_with_its_own_data_type(self):
        self.assertEqual(self.tag_type.message_type, self.partner_type.message_type)
        Message = self.env["sync.message"]
        Message._queue_records(self.tag_type, self.tag, "upsert")
        Message._queue_records(self.partner_type, self.partner, "upsert")
        self.send()
        messages = Message.search([("system_id", "=", self.system.id)])
        self.assertEqual(set(messages.mapped("state")), {"done"}, messages.mapped("last_error"))
        # the tag became a tag over there, the partner a partner, each bound to its own remote model
        tag_binding, partner_binding = self.binding(self.tag), self.binding(self.partner)
        self.assertEqual(tag_binding.remote_model, "res.partner.category")
        self.assertEqual(partner_binding.remote_model, "res.partner")
        remote_tag = self.env["res.partner.category"].browse(int(tag_binding.remote_ref))
        self.assertEqual(remote_tag.name, "Shared schema tag")
        self.assertNotEqual(remote_tag, self.tag)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Shared schema tag")]))
        remote_partner = self.env["res.partner"].browse(int(partner_binding.remote_ref))
        self.assertEqual((remote_partner.ref, remote_partner.name), ("SHARED-SCHEMA-1", "Shared schema partner"))
        self.assertNotEqual(remote_partner, self.partner)
        # a partner referencing the tag finds it over there, at the first attempt
        self.partner.category_id = self.tag
        Message._queue_records(self.partner_type, self.partner, "upsert")
        self.send()
        latest = Message.search([("data_type_id", "=", self.partner_type.id)], order="id desc", limit=1)
        self.assertEqual((latest.state, latest.attempt_count), ("done", 1), latest.last_error)
        self.assertEqual(remote_partner.category_id, remote_tag)

    def test_an_envelope_the_queue_did_not_make_is_not_guessed(self):
        envelope = {"id": "not-a-message", "type": self.tag_type.message_type, "operation": "upsert",
                    "record": {"model": "res.partner.category", "id": self.tag.id}, "payload": {"name": "Guess"}}
        result = self.env["sync.transport"]._send(self.system, [envelope])[0]
        self.assertEqual(result.status, "permanent")
        self.assertIn("Tags", result.reason)
        self.assertIn("Partners", result.reason)
        self.assertFalse(self.env["res.partner.category"].search([("name", "=", "Guess")]))
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Guess")]))
