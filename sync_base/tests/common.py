from odoo.tests import Form, TransactionCase

from odoo.addons.mail.tests.common import mail_new_test_user


class SyncCase(TransactionCase):
    """Shared fixtures: users of each role and a helper to make systems.

    The test transport (``tests/addons/sync_test_transport``) provides the
    ``test`` transport; without it the tests that need it are skipped.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_create_nolog=True))
        cls.company = cls.env.company
        cls.user_outsider = mail_new_test_user(cls.env, login="sync_outsider", groups="base.group_user")
        cls.user_sync = mail_new_test_user(cls.env, login="sync_user", groups="sync_base.group_sync_user")
        cls.user_manager = mail_new_test_user(cls.env, login="sync_manager", groups="sync_base.group_sync_manager")
        cls.has_test_transport = "test" in dict(cls.env["sync.system"]._fields["transport"].selection)

    @classmethod
    def _create_system(cls, code, **vals):
        values = {"name": code.replace("_", " ").title(), "code": code}
        if cls.has_test_transport:
            values["transport"] = "test"
        values.update(vals)
        return cls.env["sync.system"].create(values)

    def _skip_without_test_transport(self):
        if not self.has_test_transport:
            self.skipTest("needs the test transport addon (tests/addons/sync_test_transport)")


class ActionViewsMixin:
    """Open every window action of an addon, with each of its view modes."""

    def assert_action_views_open(self, module):
        actions = self.env["ir.model.data"].search(
            [("module", "=", module), ("model", "=", "ir.actions.act_window")]
        )
        self.assertTrue(actions, f"{module} declares no window action")
        for xmlid in actions:
            action = self.env["ir.actions.act_window"].browse(xmlid.res_id)
            modes = action.view_mode.split(",")
            self.assertNotIn("tree", modes, f"{module}.{xmlid.name}: Odoo 18.0 calls it 'list'")
            model = self.env[action.res_model]
            views = model.get_views([(False, mode) for mode in modes] + [(False, "search")])
            for mode in modes:
                self.assertIn(mode, views["views"], f"{module}.{xmlid.name}: no {mode} view")
                self.assertTrue(views["views"][mode]["arch"])
            if "form" in modes and model._auto and not model._transient:
                # instantiating the form runs its onchanges and evaluates its modifiers
                Form(model)
