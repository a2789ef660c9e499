"""Paths around the ORM's write: nothing a caller says keeps a change from being captured."""

from odoo.tests import tagged

from .common import QueueCase


@tagged("post_install", "-at_install")
class TestCaptureGuards(QueueCase):
    def _captured(self, model="res.partner"):
        return [(change.res_id, change.operation) for change in self.changes() if change.model == model]

    def test_no_context_key_switches_capture_off(self):
        # a context travels with every RPC call: a caller that could switch capture off would lose the change
        Partner = self.env["res.partner"].with_context(sync_no_capture=True)
        created = Partner.create({"name": "Quiet"})
        self.env.flush_all()
        self.assertIn((created.id, "create"), self._captured())
        self.partner.with_context(sync_no_capture=True).unlink()
        self.assertIn((self.partner.id, "unlink"), self._captured())

    def test_a_name_changed_in_the_translation_dialog_is_captured(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        tag = self.env["res.partner.category"].create({"name": "VIP"})
        tag_type = self.env["sync.data.type"].create({
            "name": "Tags", "library_id": self.library.id,
            "model_id": self.env["ir.model"]._get("res.partner.category").id,
            "system_ids": [(6, 0, self.system.ids)],
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True})],
        })
        tag_type.action_generate_schema()
        self.env.flush_all()
        self.changes().unlink()
        # what the web client's translation dialog calls: a raw UPDATE of the column
        tag.update_field_translations("name", {"en_US": "VIP Gold", "fr_FR": "VIP Or"})
        self.assertEqual(self._captured("res.partner.category"), [(tag.id, "write")])
