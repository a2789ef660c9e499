"""Suite mode against a real suite: this test server's own inbound endpoint, over HTTP."""

from odoo.tests import HttpCase, tagged
from odoo.tools import SQL

from odoo.addons.sync_base import compat
from odoo.addons.sync_base.tests import series


@tagged("post_install", "-at_install")
class TestSuiteReferenceNotHereYet(series.AllowAllRequests, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.env["ir.config_parameter"].sudo().set_param("sync_base.own_code", "suite_src")
        receiver_user = cls.env["res.users"].create({
            "name": "Suite receiver", "login": "suite_receiver",
            # the rights on the records it writes, and no Synchronization group: the suite reads its configuration
            compat.GROUP_IDS: [(6, 0, [
                cls.env.ref("base.group_user").id, cls.env.ref("base.group_partner_manager").id,
            ])],
        })
        System = cls.env["sync.system"]
        # the receiving side: this database's own code, as the remote suite knows it
        incoming = System.create({"name": "Source", "code": "suite_src", "transport": "test",
                                  "user_id": receiver_user.id})
        cls.sender = System.create({
            "name": "Itself", "code": "suite_itself", "transport": "rpc", "rpc_protocol": "jsonrpc",
            "rpc_mode": "suite", "rpc_host": "127.0.0.1", "rpc_port": cls.http_port(),
            "rpc_database": cls.env.cr.dbname, "rpc_login": "unused", "rpc_password": "unused", "timeout": 20,
            "rpc_remote_token": incoming._generate_inbound_token(), "retry_delays": "1", "max_attempts": 2,
        })
        library = cls.env["sync.library"].create({"name": "Suite retry", "slug": "suite_retry"})
        schema = cls.env["sync.schema"].create({"library_id": library.id, "name": "Any object", "slug": "doc",
                                                "schema": '{"type": "object"}'})
        Model = cls.env["ir.model"]
        countries = cls.env["sync.data.type"].create({
            "name": "Countries", "library_id": library.id, "model_id": Model._get("res.country").id,
            "trigger": "manual",
            "line_ids": [(0, 0, {"line_type": "field", "value": "code", "name": "code", "primary": True})],
        })
        # what goes out names a country by a code no country has here yet
        cls.sending = cls.env["sync.data.type"].create({
            "name": "Partners out", "library_id": library.id, "model_id": Model._get("res.partner").id,
            "schema_id": schema.id, "system_ids": [(6, 0, cls.sender.ids)], "trigger": "manual",
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                         (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True}),
                         (0, 0, {"line_type": "default", "value": '{{"code": "QZ"}}', "name": "country_id"})],
        })
        # what comes in resolves it by its code
        cls.env["sync.data.type"].create({
            "name": "Partners in", "library_id": library.id, "model_id": Model._get("res.partner").id,
            "schema_id": schema.id, "system_ids": [(6, 0, incoming.ids)], "accept_inbound": True,
            "trigger": "manual",
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                         (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True}),
                         (0, 0, {"line_type": "reference", "value": "country_id", "name": "country_id",
                                 "reference_id": countries.id})],
        })

    def send(self, partner):
        """One attempt of ``partner``'s message, made due first; return the message."""
        Message = self.env["sync.message"]
        message = Message.search([("res_id", "=", partner.id), ("data_type_id", "=", self.sending.id)])
        self.env.cr.execute(SQL("UPDATE sync_message SET next_attempt_at = now() at time zone 'utc' - interval '1s' "
                                "WHERE id = %s", message.id))
        # without a worker thread: this test's server answers on the test's own cursor
        Message._send_batch(self.sender, Message._settings())
        self.env.invalidate_all()
        return message

    def test_a_reference_not_here_yet_is_retried_then_failed_after_the_attempts(self):
        partner = self.env["res.partner"].create({"name": "Waiting", "ref": "SUITE-WAIT-1"})
        self.env["sync.message"]._queue_records(self.sending, partner, "upsert")
        message = self.send(partner)
        self.assertEqual(message.state, "retry", message.last_error)
        self.assertIn('{"code": "QZ"}', message.last_error)
        self.assertIn("res.country", message.last_error)
        received = self.env["sync.inbound.message"].search([("message_uuid", "=", message.uuid)])
        self.assertEqual((received.state, received.http_status), ("retry", 503))
        # it never arrives: failed once the attempts are spent, saying why
        message = self.send(partner)
        self.assertEqual(message.state, "failed")
        self.assertEqual(message.attempt_count, 2)
        self.assertIn('{"code": "QZ"}', message.last_error)

    def test_a_reference_that_arrives_meanwhile_is_applied_at_the_next_attempt(self):
        partner = self.env["res.partner"].create({"name": "Arriving", "ref": "SUITE-WAIT-2"})
        self.env["sync.message"]._queue_records(self.sending, partner, "upsert")
        message = self.send(partner)
        self.assertEqual(message.state, "retry", message.last_error)
        country = self.env["res.country"].create({"name": "Queueland", "code": "QZ"})
        message = self.send(partner)
        self.assertEqual(message.state, "done", message.last_error)
        received = self.env["sync.inbound.message"].search([("message_uuid", "=", message.uuid)])
        self.assertEqual((received.state, received.attempt_count), ("done", 2))
        copy = self.env["res.partner"].browse(received.res_id)
        self.assertEqual((copy.ref, copy.country_id), ("SUITE-WAIT-2", country))
