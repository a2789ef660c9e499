import xmlrpc.client

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.sync_base.tests import series


@tagged("post_install", "-at_install")
class TestManagerGainsNothing(series.AllowAllRequests, HttpCase):
    """Whoever holds a system's token acts as its inbound user: a Synchronization manager who is not an
    administrator may not give a system an inbound user with more power than his own, generate a token for such a
    system, or make a system reach companies he does not work in (all over XML-RPC, as the manager)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Company B"})
        cls.manager = mail_new_test_user(
            cls.env, login="guard_manager", password="guard_manager_pw", company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)], groups="base.group_user,sync_base.group_sync_manager")
        cls.clerk = mail_new_test_user(cls.env, login="guard_clerk", company_id=cls.company_a.id,
                                       company_ids=[(6, 0, cls.company_a.ids)], groups="base.group_user")
        cls.partner_manager = mail_new_test_user(
            cls.env, login="guard_partner_manager", company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)], groups="base.group_user,base.group_partner_manager")
        cls.admin = cls.env.ref("base.user_admin")

    def _rpc(self, model, method, args, kwargs=None):
        return self.xmlrpc_object.execute_kw(self.env.cr.dbname, self.manager.id, "guard_manager_pw", model, method,
                                             args, kwargs or {})

    def _refused(self, model, method, args):
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self._rpc(model, method, args)
        return caught.exception.faultString

    def _system_vals(self, code, **vals):
        return {"name": code, "code": code, "company_id": self.company_a.id, **vals}

    def test_only_an_administrator_chooses_another_person_as_inbound_user(self):
        # a colleague with fewer groups than the manager: the token holder would act as him (his user record, his
        # messages), which the manager may not
        fault = self._refused("sync.system", "create", [self._system_vals("guard_colleague", user_id=self.clerk.id)])
        self.assertIn("Only an administrator may choose another user", fault)
        mine = self._rpc("sync.system", "create", [self._system_vals("guard_mine", user_id=self.manager.id)])
        self.assertEqual(self.env["sync.system"].browse(mine).user_id, self.manager)
        system = self.env["sync.system"].with_user(self.admin).create(
            self._system_vals("guard_ok", user_id=self.clerk.id))
        # the administrator's choice stays usable: other fields, the same user again, a token
        self._rpc("sync.system", "write", [system.ids, {"name": "Renamed", "user_id": self.clerk.id}])
        self.assertTrue(self._rpc("sync.system", "action_generate_inbound_token", [system.ids]))
        for user in (self.admin, self.env.ref("base.user_root"), self.partner_manager):
            with self.subTest(user=user.login):
                fault = self._refused("sync.system", "write", [system.ids, {"user_id": user.id}])
                self.assertIn("Only an administrator may choose another user", fault)
        self.assertEqual(system.user_id, self.clerk)

    def test_no_token_for_a_system_applied_by_an_administrator(self):
        system = self.env["sync.system"].create(self._system_vals("guard_admin_in", user_id=self.admin.id))
        fault = self._refused("sync.system", "action_generate_inbound_token", [system.ids])
        self.assertIn("administrator", fault)
        self.assertFalse(system.token_ids)
        with self.assertRaises(AccessError):
            system.with_user(self.manager)._generate_inbound_token()
        # an administrator may
        self.assertTrue(system.with_user(self.admin)._generate_inbound_token())

    def test_companies_of_the_manager_only(self):
        fault = self._refused("sync.system", "create", [self._system_vals("guard_nocomp", company_id=False)])
        self.assertIn("every company", fault)
        self._refused("sync.system", "create", [self._system_vals("guard_b", company_id=self.company_b.id)])
        self.assertFalse(self.env["sync.system"].search([("code", "in", ("guard_nocomp", "guard_b"))]))
        other_company_clerk = mail_new_test_user(
            self.env, login="guard_clerk_b", company_id=self.company_b.id,
            company_ids=[(6, 0, (self.company_a | self.company_b).ids)], groups="base.group_user")
        system = self.env["sync.system"].create(self._system_vals("guard_clerk_b", user_id=other_company_clerk.id))
        fault = self._refused("sync.system", "action_generate_inbound_token", [system.ids])
        self.assertIn("companies you do not", fault)
        self.assertFalse(system.token_ids)
