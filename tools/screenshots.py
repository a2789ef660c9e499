"""Screenshots of the web UI for the README, taken with headless Chromium against the demo.

    bin/run                        # the demo must be running
    python3 tools/screenshots.py [--url http://localhost:8069] [--out docs/images]

Logs in as admin over JSON-RPC, hands the session to Chromium through its
DevTools protocol, opens each screen and saves a PNG.
"""

import argparse
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import websocket

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DB = "sync_demo_source"


class Page:
    """One Chromium tab driven over the DevTools protocol."""

    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=60)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            answer = json.loads(self.ws.recv())
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def wait(self, url, selector, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.call("Runtime.evaluate", expression=f"!!document.querySelector({json.dumps(selector)})")
            if found.get("result", {}).get("value"):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{url}: {selector} did not show within {timeout}s")

    def shot(self, url, path, wait_for, settle=1.0, timeout=30, click=None):
        """Open ``url``, wait for ``wait_for``; with ``click`` (selector, then what to wait for), click first."""
        self.call("Page.navigate", url=url)
        if click:
            selector, wait_for_after = click
            self.wait(url, selector, timeout)
            self.call("Runtime.evaluate", expression=f"document.querySelector({json.dumps(selector)}).click()")
            wait_for = wait_for_after
        self.wait(url, wait_for, timeout)
        time.sleep(settle)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or shutil.which("google-chrome")
    if not chromium:
        sys.stdout.write("Chromium is not installed (Debian: apt-get install chromium).\n")
        return 2
    session = requests.Session()
    answer = session.post(f"{args.url}/web/session/authenticate", timeout=30, json={
        "jsonrpc": "2.0", "params": {"db": SOURCE_DB, "login": "admin", "password": "admin"}}).json()
    if answer.get("error"):
        sys.stdout.write(f"Cannot log in to the demo at {args.url}: is bin/run's source running?\n")
        return 2

    def search(model, domain, order="id"):
        rows = session.post(f"{args.url}/web/dataset/call_kw", timeout=30, json={"jsonrpc": "2.0", "params": {
            "model": model, "method": "search_read", "args": [domain],
            "kwargs": {"fields": ["id"], "limit": 1, "order": order}}}).json()["result"]
        return rows[0]["id"] if rows else None

    data_type = search("sync.data.type", [["name", "=", "Companies and contacts"]])
    message = search("sync.message", [["state", "=", "done"]], order="id desc")
    system = search("sync.system", [["code", "=", "demo_target"]])
    partner = search("res.partner", [["ref", "like", "DEMO-"], ["is_company", "=", True]], order="id desc")
    screens = [
        ("dashboard.png", "/odoo/action-sync_queue.sync_system_dashboard_action", ".o_kanban_view .o_kanban_record"),
        ("data_type.png", f"/odoo/action-sync_mapping.sync_data_type_action/{data_type}", ".o_form_view .o_notebook"),
        # the queue opens on what needs attention: nothing, after the demo; the screenshot shows everything
        ("messages.png", "/odoo/action-sync_queue.sync_message_action", None,
         (".o_searchview_facet .o_facet_remove", ".o_list_view .o_data_row")),
        ("message.png", f"/odoo/action-sync_queue.sync_message_action/{message}", ".o_form_view .o_notebook"),
        ("system.png", f"/odoo/action-sync_base.sync_system_action/{system}", ".o_form_view .o_notebook"),
        # a contact the demo sent: its form's Synchronization smart button
        ("partner.png", f"/odoo/action-base.action_partner_form/{partner}",
         ".o_form_view button[name=action_open_sync_overview]"),
    ]
    profile = tempfile.mkdtemp(prefix="sync-shots-")
    port = 9300 + int(time.time()) % 500
    browser = subprocess.Popen([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                f"--remote-debugging-port={port}", "--remote-allow-origins=*",
                                f"--user-data-dir={profile}", "--window-size=1440,900", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _i in range(100):
            try:
                targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=2).json()
                ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
                break
            except (requests.RequestException, StopIteration, ValueError):
                time.sleep(0.2)
        else:
            sys.stdout.write("Chromium did not start.\n")
            return 1
        page = Page(ws_url)
        page.call("Network.enable")
        page.call("Emulation.setDeviceMetricsOverride", width=1440, height=900, deviceScaleFactor=1, mobile=False)
        page.call("Network.setCookie", name="session_id", value=session.cookies["session_id"], url=args.url)
        for name, path, wait_for, *click in screens:
            page.shot(f"{args.url}{path}", out / name, wait_for, click=click[0] if click else None)
            sys.stdout.write(f"{out / name}\n")
    finally:
        browser.kill()
        shutil.rmtree(profile, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
