from lxml import etree

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import QueueCase

BUTTON = "//button[@name='action_open_sync_overview']"


@tagged("post_install", "-at_install")
class TestSmartButton(QueueCase):
    """The Synchronization smart button on the forms of mapped models, and the overview it opens."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sync_user = mail_new_test_user(cls.env, login="button_user",
                                           groups="base.group_user,sync_base.group_sync_user")
        cls.outsider = mail_new_test_user(cls.env, login="button_outsider", groups="base.group_user")
        cls.company_b = cls.env["res.company"].create({"name": "Button Company B"})
        cls.system_b = cls.env["sync.system"].create(
            {"name": "B only", "code": "b_only", "transport": "test", "company_id": cls.company_b.id})

    def buttons(self, model, user):
        arch = self.env[model].with_user(user).get_view(view_type="form")["arch"]
        return etree.fromstring(arch).xpath(BUTTON)

    def test_button_on_mapped_forms_for_synchronization_users_only(self):
        [button] = self.buttons("res.partner", self.sync_user)
        self.assertEqual(button.getparent().get("name"), "button_box")
        self.assertIn("Synchronization", etree.tostring(button, encoding="unicode"))
        self.assertFalse(self.buttons("res.partner", self.outsider))
        self.assertFalse(self.buttons("res.country", self.sync_user))

    def test_button_follows_the_data_types(self):
        self.assertFalse(self.buttons("res.country", self.sync_user))
        data_type = self.env["sync.data.type"].create({
            "name": "Countries", "library_id": self.library.id, "model_id": self.env["ir.model"]._get("res.country").id,
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"})],
        })
        self.assertTrue(self.buttons("res.country", self.sync_user))
        data_type.model_id = self.env["ir.model"]._get("res.country.state")
        self.assertFalse(self.buttons("res.country", self.sync_user))
        self.assertTrue(self.buttons("res.country.state", self.sync_user))
        data_type.unlink()
        self.assertFalse(self.buttons("res.country.state", self.sync_user))

    def test_a_form_without_button_box_gets_one(self):
        data_type = self.env["sync.data.type"].create({
            "name": "Countries", "library_id": self.library.id, "model_id": self.env["ir.model"]._get("res.country").id,
        })
        self.addCleanup(data_type.unlink)
        arch = etree.fromstring(self.env["res.country"].with_user(self.sync_user).get_view(view_type="form")["arch"])
        [button] = arch.xpath(BUTTON)
        self.assertEqual(button.getparent().get("name"), "button_box")
        self.assertEqual(len(arch.xpath("//div[@name='button_box']")), 1)

    def test_overview_lists_what_the_user_may_read_of_the_record(self):
        other = self.env["res.partner"].create({"name": "Someone else"})
        Message = self.env["sync.message"]
        values = {"data_type_id": self.contact_type.id, "model": "res.partner", "operation": "upsert"}
        mine = Message.create([
            dict(values, system_id=self.system.id, res_id=self.partner.id, state="done"),
            dict(values, system_id=self.system.id, res_id=self.partner.id, state="failed", attempt_count=3,
                 last_error="refused"),
        ])
        Message.create(dict(values, system_id=self.system.id, res_id=other.id, state="failed"))
        Message.create(dict(values, system_id=self.system_b.id, res_id=self.partner.id, state="failed"))
        Binding = self.env["sync.binding"]
        binding = Binding.create({"system_id": self.system.id, "model": "res.partner", "res_id": self.partner.id,
                                  "remote_model": "contact", "remote_ref": "42"})
        Binding.create({"system_id": self.system_b.id, "model": "res.partner", "res_id": self.partner.id,
                        "remote_model": "contact", "remote_ref": "43"})
        Binding.create({"system_id": self.system.id, "model": "res.partner", "res_id": other.id,
                        "remote_model": "contact", "remote_ref": "44"})
        inbound = self.env["sync.inbound.message"].create({
            "message_uuid": "in-1", "system_id": self.system.id, "envelope": "{}", "state": "done",
            "res_model": "res.partner", "res_id": self.partner.id,
        })
        self.env["sync.inbound.message"].create({
            "message_uuid": "in-2", "system_id": self.system.id, "envelope": "{}", "state": "done",
            "res_model": "res.partner", "res_id": other.id,
        })
        action = self.partner.with_user(self.sync_user).action_open_sync_overview()
        overview = self.env["sync.record.overview"].with_user(self.sync_user).browse(action["res_id"])
        self.assertEqual(overview.record_name, "Brandon")
        self.assertEqual(overview.display_name, "Synchronization: Brandon")
        self.assertEqual(overview.message_ids, mine)
        self.assertEqual((overview.message_count, overview.message_failed_count), (2, 1))
        self.assertEqual(overview.binding_ids, binding)
        self.assertEqual(overview.inbound_message_ids, inbound)
        # the superuser sees company B's message and binding too
        self.assertEqual(len(overview.sudo().message_ids), 3)
        self.assertEqual(len(overview.sudo().binding_ids), 2)
        listed = self.env["sync.message"].with_user(self.sync_user).search(overview.action_open_messages()["domain"])
        self.assertEqual(listed, mine)

    def test_only_synchronization_users_open_the_overview(self):
        with self.assertRaises(AccessError):
            self.partner.with_user(self.outsider).action_open_sync_overview()

    def test_synchronize_now_from_the_overview(self):
        action = self.partner.with_user(self.sync_user).action_open_sync_overview()
        overview = self.env["sync.record.overview"].with_user(self.sync_user).browse(action["res_id"])
        before = self.messages(res_id=self.partner.id)
        self.assertEqual(overview.action_sync_now()["params"]["type"], "success")
        new = self.messages(res_id=self.partner.id) - before
        self.assertEqual((new.system_id, new.operation), (self.system, "upsert"))
        gone = self.env["sync.record.overview"].with_user(self.sync_user).create(
            {"res_model": "res.partner", "res_id": self.partner.id + 10**6})
        with self.assertRaisesRegex(UserError, "no longer exists"):
            gone.action_sync_now()

