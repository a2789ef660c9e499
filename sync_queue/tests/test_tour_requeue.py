import unittest

from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestRequeueTour(HttpCase):
    """In Chromium: a message refused for its content is requeued, and its replacement followed."""

    def test_admin_requeues_a_message_refused_for_its_content(self):
        system = self.env["sync.system"].create({"name": "Tour requeue", "code": "tour_requeue", "transport": "test"})
        library = self.env["sync.library"].create({"name": "Tour requeue", "slug": "tour_requeue"})
        data_type = self.env["sync.data.type"].create({
            "name": "Tour requeue partners", "library_id": library.id,
            "model_id": self.env["ir.model"]._get("res.partner").id, "trigger": "manual",
            "system_ids": [(6, 0, system.ids)],
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"})],
        })
        partner = self.env["res.partner"].create({"name": "Tour refused"})
        message = self.env["sync.message"].create({
            "system_id": system.id, "data_type_id": data_type.id, "model": "res.partner", "res_id": partner.id,
            "record_name": "Tour refused", "operation": "upsert", "state": "failed", "attempt_count": 1,
            "envelope": "{}", "failure_kind": "refused", "last_error": "unknown field: nickname",
        })
        # Odoo skips a tour it cannot run (no Chromium, no websocket-client): here that is a failure
        try:
            self.start_tour("/odoo/action-sync_queue.sync_message_action", "sync_requeue_tour", login="admin",
                            timeout=120)
        except unittest.SkipTest as exc:
            self.fail(f"Tour sync_requeue_tour could not run in a browser ({exc}).")
        self.assertEqual(message.state, "cancelled")
        fresh = message.replaced_by_id
        self.assertEqual((fresh.state, fresh.res_id, fresh.system_id), ("pending", partner.id, system))
        self.assertEqual(fresh.replaced_ids, message)
