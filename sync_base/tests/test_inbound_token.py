import xmlrpc.client
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged

from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.sync_base.tests import series

from .common import SyncCase


@tagged("post_install", "-at_install")
class TestInboundToken(SyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.system = cls._create_system("shop_eu")
        cls.other = cls._create_system("shop_us")
        cls.Systems = cls.env["sync.system"]

    def test_generate_shows_once_and_stores_hash_only(self):
        action = self.system.action_generate_inbound_token()
        token = action["context"]["default_token"]
        self.assertEqual(action["res_model"], "sync.token.show")
        self.assertEqual(action["target"], "new")
        stored = self.system.token_ids
        self.assertEqual(len(stored), 1)
        # nothing in the database holds the clear token
        self.env.flush_all()
        self.env.cr.execute("SELECT * FROM sync_inbound_token")
        for row in self.env.cr.fetchall():
            self.assertNotIn(token, [str(v) for v in row])
        self.env.cr.execute("SELECT count(*) FROM mail_message WHERE body::text LIKE %s", [f"%{token[9:]}%"])
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.assertEqual(self.Systems._authenticate_inbound("shop_eu", token), self.system)

    def test_refusals_are_indistinguishable(self):
        token = self.system._generate_inbound_token()
        other_token = self.other._generate_inbound_token()
        self.assertFalse(self.Systems._authenticate_inbound("shop_eu", other_token))
        self.assertFalse(self.Systems._authenticate_inbound("unknown", token))
        self.assertFalse(self.Systems._authenticate_inbound("shop_eu", token[:-1] + ("A" if token[-1] != "A" else "B")))
        self.assertFalse(self.Systems._authenticate_inbound("shop_eu", ""))
        self.assertFalse(self.Systems._authenticate_inbound("shop_eu", None))

    def test_expired_and_revoked_tokens_are_refused(self):
        past = fields.Datetime.now() - timedelta(minutes=1)
        future = fields.Datetime.now() + timedelta(days=1)
        expired = self.system._generate_inbound_token(expires_at=past)
        self.assertFalse(self.Systems._authenticate_inbound("shop_eu", expired))
        valid = self.system._generate_inbound_token(expires_at=future)
        rotated = self.system._generate_inbound_token()
        # two valid tokens at once: rotation with an overlap
        self.assertEqual(self.Systems._authenticate_inbound("shop_eu", valid), self.system)
        self.assertEqual(self.Systems._authenticate_inbound("shop_eu", rotated), self.system)
        token_record = self.system.token_ids.filtered(lambda t: t.expires_at == future)
        token_record.action_revoke()
        self.assertEqual(token_record.state, "revoked")
        self.assertFalse(self.Systems._authenticate_inbound("shop_eu", valid))
        self.assertEqual(self.Systems._authenticate_inbound("shop_eu", rotated), self.system)
        self.assertEqual(sorted(self.system.token_ids.mapped("state")), ["expired", "revoked", "valid"])

    def test_archived_system_still_authenticates(self):
        token = self.system._generate_inbound_token()
        self.system.active = False
        # the endpoint answers 403 'archived' after a valid token, so it must find it
        self.assertEqual(self.Systems._authenticate_inbound("shop_eu", token), self.system)

    def test_tokens_cannot_be_forged_or_altered(self):
        with self.assertRaisesRegex(UserError, "Generate Token"):
            self.env["sync.inbound.token"].with_user(self.user_manager).create(
                {"name": "mine", "system_id": self.system.id, "prefix": "abcdefgh", "token_hash": "0" * 64}
            )
        self.system._generate_inbound_token()
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            self.system.token_ids.with_user(self.user_manager).write({"system_id": self.other.id})

    def test_only_managers_generate(self):
        with self.assertRaisesRegex(UserError, "Only synchronization managers"):
            self.system.with_user(self.user_sync).action_generate_inbound_token()


@tagged("post_install", "-at_install")
class TestTokenFinalityOverRpc(series.AllowAllRequests, HttpCase):
    """Hole 5 of the security review: a manager over XML-RPC cannot bring a revoked token back, extend an expiry,
    or write a token's secret, prefix or system; the context key that once opened ``create`` opens nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = mail_new_test_user(cls.env, login="token_manager", password="token_manager_pw",
                                         groups="base.group_user,sync_base.group_sync_manager")
        cls.system = cls.env["sync.system"].create({"name": "Shop", "code": "token_shop"})
        cls.other = cls.env["sync.system"].create({"name": "Other", "code": "token_other"})
        cls.Systems = cls.env["sync.system"]

    def _rpc(self, method, args, kwargs=None):
        return self.xmlrpc_object.execute_kw(self.env.cr.dbname, self.manager.id, "token_manager_pw",
                                             "sync.inbound.token", method, args, kwargs or {})

    def _refused(self, method, args, kwargs=None):
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self._rpc(method, args, kwargs)
        return caught.exception.faultString

    def test_revocation_is_final(self):
        token = self.system._generate_inbound_token()
        record = self.system.token_ids
        self._rpc("action_revoke", [record.ids])
        self.assertFalse(self.Systems._authenticate_inbound("token_shop", token))
        self.assertIn("stays revoked", self._refused("write", [record.ids, {"revoked_at": False}]))
        self.assertIn("stays revoked", self._refused("write", [record.ids, {"revoked_at": "2099-01-01 00:00:00"}]))
        self.env.invalidate_all()
        self.assertTrue(record.revoked_at)
        self.assertFalse(self.Systems._authenticate_inbound("token_shop", token))

    def test_expiry_only_moves_earlier(self):
        soon = fields.Datetime.now() + timedelta(hours=1)
        token = self.system._generate_inbound_token(expires_at=soon)
        record = self.system.token_ids
        self.assertIn("only move earlier", self._refused("write", [record.ids, {"expires_at": False}]))
        later = fields.Datetime.to_string(soon + timedelta(days=365))
        self.assertIn("only move earlier", self._refused("write", [record.ids, {"expires_at": later}]))
        self._rpc("write", [record.ids, {"expires_at": fields.Datetime.to_string(soon - timedelta(minutes=30))}])
        self.env.invalidate_all()
        self.assertLess(record.expires_at, soon)
        self.assertEqual(self.Systems._authenticate_inbound("token_shop", token), self.system)
        # a token without expiry may get one
        self.other._generate_inbound_token()
        self._rpc("write", [self.other.token_ids.ids, {"expires_at": fields.Datetime.to_string(soon)}])

    def test_secret_prefix_and_system_cannot_be_written(self):
        token = self.system._generate_inbound_token()
        record = self.system.token_ids
        for vals in ({"token_hash": "0" * 64}, {"prefix": "sync_abc"}, {"system_id": self.other.id}):
            with self.subTest(vals=vals):
                self.assertIn("cannot be changed", self._refused("write", [record.ids, vals]))
        # not even the superuser: nothing in the code base needs it
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            record.sudo().write({"token_hash": "0" * 64})
        self.assertEqual(self.Systems._authenticate_inbound("token_shop", token), self.system)

    def test_no_context_key_lets_a_manager_create_a_token(self):
        vals = {"name": "mine", "system_id": self.system.id, "prefix": "abcdefgh", "token_hash": "0" * 64}
        fault = self._refused("create", [vals], {"context": {"sync_token_generated": True}})
        self.assertIn("Generate Token", fault)
        self.assertFalse(self.system.token_ids)
