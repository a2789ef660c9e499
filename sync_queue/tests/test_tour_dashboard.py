import unittest

from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestDashboardTours(HttpCase):
    """In Chromium: the Dashboard's failed count clicked through, and a partner's Synchronization button."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.system = cls.env["sync.system"].create(
            {"name": "Tour Dashboard", "code": "tour_dashboard", "transport": "test"})
        cls.elsewhere = cls.env["sync.system"].create(
            {"name": "Tour Elsewhere", "code": "tour_elsewhere", "transport": "test"})
        library = cls.env["sync.library"].create({"name": "Tour dashboard", "slug": "tour_dashboard"})
        cls.data_type = cls.env["sync.data.type"].create({
            "name": "Tour dashboard partners", "library_id": library.id,
            "model_id": cls.env["ir.model"]._get("res.partner").id, "trigger": "manual",
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"})],
        })
        cls.partner = cls.env["res.partner"].create({"name": "Tour Synchronized"})

    def tour(self, url, name, timeout=120):
        # Odoo skips a tour it cannot run (no Chromium, no websocket-client): here that is a failure
        try:
            self.start_tour(url, name, login="admin", timeout=timeout)
        except unittest.SkipTest as exc:
            self.fail(f"Tour {name} could not run in a browser ({exc}): install Debian's chromium and "
                      "websocket-client (.ci/run does).")

    def message(self, system, name, state, **vals):
        values = {"system_id": system.id, "data_type_id": self.data_type.id, "model": "res.partner",
                  "res_id": self.partner.id, "record_name": name, "operation": "upsert", "state": state,
                  "attempt_count": 1}
        values.update(vals)
        return self.env["sync.message"].create(values)

    def test_dashboard_failed_count_lists_the_failed_messages(self):
        self.message(self.system, "Tour dashboard refused", "failed", last_error="refused")
        self.message(self.system, "Tour dashboard refused again", "failed", last_error="refused")
        self.message(self.system, "Tour pending", "pending", attempt_count=0)
        self.message(self.elsewhere, "Tour elsewhere", "failed", last_error="refused")
        self.tour("/odoo/action-sync_queue.sync_system_dashboard_action", "sync_dashboard_failed_tour")

    def test_partner_smart_button_shows_its_messages(self):
        self.message(self.system, "Tour Synchronized", "failed", last_error="Tour partner refused")
        self.message(self.system, "Tour Synchronized", "done")
        self.env["sync.binding"].create({"system_id": self.system.id, "model": "res.partner",
                                         "res_id": self.partner.id, "remote_model": "contact",
                                         "remote_ref": "tour-77"})
        self.tour(f"/odoo/res.partner/{self.partner.id}", "sync_smart_button_tour")
