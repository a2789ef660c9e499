from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestTransportSelection(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.system = cls.env["sync.system"].create({"name": "Remote", "code": "remote_wso2", "transport": "wso2"})

    def test_transport_is_offered(self):
        selection = dict(self.env["sync.system"]._fields["transport"].selection)
        self.assertIn("wso2", selection)
        self.assertEqual(self.system.transport, "wso2")

    def test_uninstall_policy_archives_and_keeps(self):
        policy = self.env["sync.system"]._fields["transport"].ondelete["wso2"]
        self.assertTrue(callable(policy))
        policy(self.system)
        self.assertTrue(self.system.exists())
        self.assertFalse(self.system.active)
        self.assertFalse(self.system.transport)
