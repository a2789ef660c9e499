import unittest

from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestAdminTours(HttpCase):
    """What an admin does in the web UI, in Chromium: mapping a model, then the outgoing queue."""

    def tour(self, url, name, timeout):
        # Odoo skips a tour it cannot run (no Chromium, no websocket-client): here that is a failure
        try:
            self.start_tour(url, name, login="admin", timeout=timeout)
        except unittest.SkipTest as exc:
            self.fail(f"Tour {name} could not run in a browser ({exc}): install Debian's chromium and "
                      "websocket-client (.ci/run does).")

    def test_admin_maps_partners(self):
        self.tour("/odoo/action-sync_mapping.sync_library_action", "sync_admin_mapping_tour", timeout=180)
        data_type = self.env["sync.data.type"].search([("name", "=", "Tour Partners")])
        self.assertEqual(data_type.library_id.slug, "tour_contacts")
        self.assertEqual(data_type.model_name, "res.partner")
        self.assertEqual(data_type.line_ids.mapped("value"), ["name", "email"])
        self.assertEqual(data_type.condition_ids.mapped("field_name"), ["active"])
        self.assertIn('"email"', data_type.schema_id.schema)

    def test_admin_retries_a_failed_message(self):
        system = self.env["sync.system"].create({"name": "Tour target", "code": "tour_target", "transport": "test"})
        library = self.env["sync.library"].create({"name": "Tour queue", "slug": "tour_queue"})
        data_type = self.env["sync.data.type"].create({
            "name": "Tour queue partners", "library_id": library.id,
            "model_id": self.env["ir.model"]._get("res.partner").id, "trigger": "manual",
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"})],
        })
        partner = self.env["res.partner"].create({"name": "Tour failed"})
        message = self.env["sync.message"].create({
            "system_id": system.id, "data_type_id": data_type.id, "model": "res.partner", "res_id": partner.id,
            "record_name": "Tour failed", "operation": "upsert", "state": "failed",
            "last_error": "refused by the tour's target",
        })
        self.tour("/odoo/action-sync_queue.sync_message_action", "sync_admin_queue_tour", timeout=120)
        self.assertEqual(message.state, "retry")
