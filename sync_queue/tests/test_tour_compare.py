import base64
import os
import time
import unittest
from pathlib import Path
from unittest.mock import patch

from odoo.tests import HttpCase, common, tagged

#: where the README's screenshot of a comparison result goes, when set (the README's images: docs/images)
SCREENSHOT_DIR_ENV = "SYNC_README_IMAGES"
SCREENSHOT_NAME = "compare.png"
#: the page's height with nothing left to scroll (18.0 scrolls the action's content, 19.0 a part of it), and no
#: button focused
HEIGHT = """(() => {
    document.activeElement?.blur();
    let hidden = 0;
    for (const element of document.querySelectorAll(".o_action_manager, .o_action_manager *")) {
        if (["auto", "scroll"].includes(getComputedStyle(element).overflowY)) {
            hidden = Math.max(hidden, element.scrollHeight - element.clientHeight);
        }
    }
    return Math.ceil(window.innerHeight + hidden);
})()"""


@tagged("post_install", "-at_install")
class TestCompareTour(HttpCase):
    """In Chromium: Compare pressed on a system, its result opened, the records out of step queued again.

    Five contacts were sent to a test-transport system, whose other side holds
    the last envelope it acknowledged of each: there, one has another email
    (it differs) and one was never received (it is missing there).  Crons do
    not run in tests: the tour is cut in three, and this test runs the
    comparison's steps between the first two, as the cron ``ir_cron_compare``
    would.  The browser's page at the end of the second (the result, before
    its repair) is the README's screenshot of a comparison.
    """

    # the size of the README's other screenshots (tools/screenshots.py)
    browser_size = "1440x900"

    def setUp(self):
        super().setUp()
        self.system = self.env["sync.system"].create(
            {"name": "Webshop", "code": "tour_compare_webshop", "transport": "test"})
        library = self.env["sync.library"].create({"name": "Tour compare", "slug": "tour_compare"})
        self.data_type = self.env["sync.data.type"].create({
            "name": "Contacts", "library_id": library.id, "model_id": self.env["ir.model"]._get("res.partner").id,
            "trigger": "manual", "system_ids": [(6, 0, self.system.ids)],
            # these contacts only, whatever else the database holds
            "domain": "[('ref', '=like', 'TOUR-CMP-%')]",
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True}),
                         (0, 0, {"line_type": "field", "value": "email", "name": "email"})],
        })
        self.data_type.action_generate_schema()
        names = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov"]
        self.contacts = self.env["res.partner"].create([
            {"name": name, "email": f"{name.split()[0].lower()}@example.com", "ref": f"TOUR-CMP-{index}"}
            for index, name in enumerate(names)])
        self.grace, self.alan = self.contacts[1], self.contacts[2]
        Message = self.env["sync.message"]
        Message._queue_records(self.data_type, self.contacts, "upsert")
        Message._cron_send()
        self.env.invalidate_all()
        self.assertEqual(set(Message.search([("system_id", "=", self.system.id)]).mapped("state")), {"done"})
        # drift made there: Grace Hopper has another email, Alan Turing never arrived
        call = self.held(self.grace)
        call.envelope = dict(call.envelope, payload=dict(call.envelope["payload"], email="grace@navy.example"))
        self.held(self.alan).unlink()

    def held(self, record):
        calls = self.env["sync.test.transport.call"].search([("system_id", "=", self.system.id)], order="id desc")
        return calls.filtered(lambda call: (call.envelope or {}).get("record", {}).get("id") == record.id)[:1]

    def tour(self, url, name, timeout=120):
        # Odoo skips a tour it cannot run (no Chromium, no websocket-client): here that is a failure
        try:
            self.start_tour(url, name, login="admin", timeout=timeout)
        except unittest.SkipTest as exc:
            self.fail(f"Tour {name} could not run in a browser ({exc}): install Debian's chromium and "
                      "websocket-client (.ci/run does).")
        self.env.invalidate_all()

    def tour_with_screenshot(self, url, name):
        """Run the tour ``name``, and return a PNG of the browser's page as the tour left it."""
        shots = []
        wait_code_ok = common.ChromeBrowser._wait_code_ok

        def wait_then_shoot(browser, *args, **kwargs):
            wait_code_ok(browser, *args, **kwargs)  # raises unless the tour succeeded
            # the whole form, its findings too: as wide as the browser, as high as the form's content
            width = int(self.browser_size.replace(",", "x").split("x")[0])
            answer = browser._websocket_request("Runtime.evaluate",
                                                params={"returnByValue": True, "expression": HEIGHT})
            height = max(900, answer["result"]["value"])
            browser._websocket_request("Emulation.setDeviceMetricsOverride", params={
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
            time.sleep(1)  # laid out again at that size
            answer = browser._websocket_request("Page.captureScreenshot", params={"format": "png"}, timeout=30)
            shots.append(base64.b64decode(answer["data"]))

        with patch.object(common.ChromeBrowser, "_wait_code_ok", wait_then_shoot):
            self.tour(url, name)
        self.assertEqual(len(shots), 1)
        self.assertTrue(shots[0].startswith(b"\x89PNG"))
        return shots[0]

    def test_admin_compares_a_system_and_requeues_what_differs(self):
        self.tour("/odoo/action-sync_base.sync_system_action", "sync_compare_start_tour")
        run = self.env["sync.compare.run"].search([("system_id", "=", self.system.id)])
        self.assertEqual((len(run), run.state, run.data_type_id, run.user_id.login),
                         (1, "queued", self.data_type, "admin"))

        # what the cron ir_cron_compare does, one step per call
        for _step in range(20):
            if run.state not in ("queued", "running"):
                break
            self.env["sync.compare.run"]._cron_compare()
            run.invalidate_recordset()
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual((run.total_count, run.in_step_count, run.differs_count, run.missing_count),
                         (5, 3, 1, 1))

        png = self.tour_with_screenshot("/odoo/action-sync_queue.sync_system_dashboard_action",
                                        "sync_compare_result_tour")
        folder = os.environ.get(SCREENSHOT_DIR_ENV)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            (Path(folder) / SCREENSHOT_NAME).write_bytes(png)

        self.tour("/odoo/action-sync_queue.sync_system_dashboard_action", "sync_compare_repair_tour")
        self.assertTrue(all(run.line_ids.mapped("repaired")))
        pending = self.env["sync.message"].search([("system_id", "=", self.system.id), ("state", "=", "pending")])
        self.assertEqual(sorted(zip(pending.mapped("operation"), pending.mapped("res_id"), strict=True)),
                         sorted([("upsert", self.grace.id), ("upsert", self.alan.id)]))
