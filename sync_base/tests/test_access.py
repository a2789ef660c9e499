from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import SyncCase


@tagged("post_install", "-at_install")
class TestAccess(SyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        vals = {"test_secret": "s3cr3t"} if cls.has_test_transport else {}
        cls.system = cls._create_system("shop_eu", **vals)
        cls.system._generate_inbound_token()

    def test_outsider_sees_nothing(self):
        Systems = self.env["sync.system"].with_user(self.user_outsider)
        with self.assertRaises(AccessError):
            Systems.search([])
        with self.assertRaises(AccessError):
            self.system.with_user(self.user_outsider).read(["name"])
        with self.assertRaises(AccessError):
            self.env["sync.binding"].with_user(self.user_outsider).search([])
        with self.assertRaises(AccessError):
            self.env["sync.inbound.token"].with_user(self.user_outsider).search([])

    def test_sync_user_sees_systems_but_no_credential(self):
        system = self.system.with_user(self.user_sync)
        self.assertEqual(system.read(["name", "code"])[0]["code"], "shop_eu")
        with self.assertRaises(AccessError):
            system.read(["token_ids"])
        with self.assertRaises(AccessError):
            self.env["sync.inbound.token"].with_user(self.user_sync).search([])
        if self.has_test_transport:
            with self.assertRaises(AccessError):
                system.read(["test_secret"])
            self.assertNotIn("test_secret", system.fields_get())
        with self.assertRaises(AccessError):
            system.write({"name": "Renamed"})
        with self.assertRaises(AccessError):
            self.env["sync.system"].with_user(self.user_sync).create({"name": "X", "code": "x"})

    def test_manager_sees_and_edits_everything(self):
        system = self.system.with_user(self.user_manager)
        system.write({"name": "Renamed", "batch_size": 10})
        self.assertEqual(system.name, "Renamed")
        self.assertEqual(len(system.token_ids), 1)
        if self.has_test_transport:
            self.assertEqual(system.test_secret, "s3cr3t")
        # the hash itself stays out of reach even for managers
        with self.assertRaises(AccessError):
            system.token_ids.read(["token_hash"])
        new = self.env["sync.system"].with_user(self.user_manager).create({"name": "New", "code": "new"})
        new.unlink()

    def test_companies_are_kept_apart(self):
        company_b = self.env["res.company"].create({"name": "Company B"})
        system_b = self._create_system("shop_b", company_id=company_b.id)
        shared = self._create_system("shared", company_id=False)
        user_a = mail_new_test_user(
            self.env, login="sync_user_a", groups="sync_base.group_sync_user", company_id=self.company.id,
            company_ids=[(6, 0, self.company.ids)],
        )
        visible = self.env["sync.system"].with_user(user_a).search([])
        self.assertIn(self.system, visible)
        self.assertIn(shared, visible)
        self.assertNotIn(system_b, visible)
        with self.assertRaises(AccessError):
            system_b.with_user(user_a).read(["name"])
        binding_b = self.env["sync.binding"].create(
            {
                "system_id": system_b.id,
                "model": "res.partner",
                "res_id": 1,
                "remote_model": "res.partner",
                "remote_ref": "1",
            }
        )
        self.assertNotIn(binding_b, self.env["sync.binding"].with_user(user_a).search([]))
