from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

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
