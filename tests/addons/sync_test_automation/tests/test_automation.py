from odoo.tests import tagged

from odoo.addons.sync_queue.tests.common import QueueCase


@tagged("post_install", "-at_install")
class TestAutomation(QueueCase):
    def test_saving_an_automation_rule_leaves_capture_working(self):
        rule = self.env["base.automation"].create({
            "name": "Touch partners", "model_id": self.env["ir.model"]._get("res.partner").id,
            "trigger": "on_create_or_write",
        })
        rule.write({"name": "Touch partners again"})  # runs _unregister_hook and _register_hook
        self.partner.email = "after-automation@example.com"
        self.commit()
        changes = self.changes()
        self.assertEqual(changes.mapped("res_id"), [self.partner.id])
        rule.unlink()
        self.partner.email = "after-unlink@example.com"
        self.commit()
        self.assertEqual(len(self.changes()), 2)
