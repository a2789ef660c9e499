"""What RPC callers cannot do to the outbox: keep their own changes from being sent by naming the systems the
change would come from (the context key the inbound endpoint and the pull set)."""

from odoo.tests import HttpCase, tagged

from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.sync_base.tests import series


@tagged("post_install", "-at_install")
class TestOriginCannotBeForged(series.AllowAllRequests, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.system = cls.env["sync.system"].create({"name": "Watcher", "code": "sec_watch", "transport": "test"})
        library = cls.env["sync.library"].create({"name": "Watched", "slug": "watched"})
        cls.data_type = cls.env["sync.data.type"].create({
            "name": "Partners", "library_id": library.id, "model_id": cls.env["ir.model"]._get("res.partner").id,
            "system_ids": [(6, 0, cls.system.ids)], "trigger": "on_create_or_write",
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"})],
        })
        cls.data_type.action_generate_schema()
        cls.clerk = mail_new_test_user(cls.env, login="sec_clerk", password="sec_clerk_pw",
                                       groups="base.group_user,base.group_partner_manager")
        cls.partner = cls.env["res.partner"].create({"name": "Watched partner"})

    def _queued_for_partner(self):
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env["sync.message"]._cron_create_queue()
        return self.env["sync.message"].search([("model", "=", "res.partner"), ("res_id", "=", self.partner.id),
                                                ("system_id", "=", self.system.id)])

    def test_a_context_key_sent_over_rpc_does_not_spare_a_system(self):
        self._queued_for_partner().unlink()
        self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, self.clerk.id, "sec_clerk_pw", "res.partner", "write",
            [[self.partner.id], {"name": "Changed silently"}],
            {"context": {"sync_origin_system_ids": [self.system.id]}})
        self.assertEqual(self.partner.name, "Changed silently")
        self.assertEqual(len(self._queued_for_partner()), 1)


@tagged("post_install", "-at_install")
class TestWhatADataTypeSendsIsBoundByItsOwner(series.AllowAllRequests, HttpCase):
    """A manager maps a model whose records he may not all read (private chats in mail.message): the envelopes,
    built by the suite and read by every synchronization user, hold only what he may read."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.manager = mail_new_test_user(cls.env, login="sec_owner_manager", password="sec_owner_manager_pw",
                                         groups="base.group_user,sync_base.group_sync_manager")
        cls.colleague = mail_new_test_user(cls.env, login="sec_owner_colleague", groups="base.group_user")
        cls.admin = cls.env.ref("base.user_admin")

    def _rpc(self, model, method, *args):
        return self.xmlrpc_object.execute_kw(self.env.cr.dbname, self.manager.id, "sec_owner_manager_pw", model,
                                             method, list(args))

    def test_a_private_chat_never_reaches_the_managers_envelopes(self):
        system_id = self._rpc("sync.system", "create", {"name": "Mine", "code": "sec_mine", "transport": "test",
                                                        "company_id": self.env.company.id})
        library_id = self._rpc("sync.library", "create", {"name": "Chats", "slug": "chats"})
        data_type_id = self._rpc("sync.data.type", "create", {
            "name": "Messages", "library_id": library_id, "model_id": self.env["ir.model"]._get("mail.message").id,
            "system_ids": [(6, 0, [system_id])], "trigger": "on_create_or_write",
            "line_ids": [(0, 0, {"line_type": "field", "value": "body", "name": "body"}),
                         (0, 0, {"line_type": "field", "value": "model", "name": "model"})]})
        self._rpc("sync.data.type", "action_generate_schema", [data_type_id])
        data_type = self.env["sync.data.type"].browse(data_type_id)
        self.assertEqual(data_type.owner_id, self.manager)
        # the owner cannot be handed to someone with more rights
        self._rpc("sync.data.type", "write", [data_type_id], {"owner_id": self.admin.id})
        self.assertEqual(data_type.owner_id, self.manager)
        channel = series.direct_chat(self.env["discuss.channel"].with_user(self.admin), [self.colleague.partner_id.id])
        secret = channel.with_user(self.admin).message_post(body="TOPSECRET-DM-4242", message_type="comment")
        self.assertFalse(secret.with_user(self.manager).has_access("read"))
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env["sync.message"]._cron_create_queue()
        self.env["sync.message"]._cron_send()
        message = self.env["sync.message"].search([("data_type_id", "=", data_type_id), ("res_id", "=", secret.id)])
        self.assertTrue(message)
        self.assertEqual(message.state, "failed")
        self.assertIn("may not read mail.message", message.last_error)
        self.env.cr.execute("SELECT count(*) FROM sync_message WHERE envelope::text LIKE %s", ["%TOPSECRET%"])
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.assertNotIn("TOPSECRET", message.last_error)
        # nor its name, which every synchronization user reads on the message
        self.assertEqual(message.record_name, f"mail.message,{secret.id}")
