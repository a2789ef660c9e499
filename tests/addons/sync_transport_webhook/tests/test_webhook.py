import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from odoo.tests import TransactionCase, tagged

from odoo.addons.sync_base import compat


class Receiver(BaseHTTPRequestHandler):
    """A real HTTP receiver on loopback: answers the next scripted (status, body, headers), records the bodies."""

    script, received = [], []

    def log_message(self, *args):
        pass

    def _answer(self):
        status, body, headers, delay = self.script.pop(0) if self.script else (200, {}, {}, 0)
        time.sleep(delay)
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        self.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self._answer()

    def do_OPTIONS(self):
        self._answer()


@tagged("post_install", "-at_install")
class TestWebhookTransport(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.addClassCleanup(cls.server.server_close)
        cls.addClassCleanup(cls.server.shutdown)
        cls.system = cls.env["sync.system"].create({
            "name": "Hook", "code": "hook", "transport": "webhook", "timeout": 2,
            "webhook_url": f"http://127.0.0.1:{cls.server.server_address[1]}/in",
        })
        cls.envelopes = [{"id": f"uuid-{index}", "record": {"model": "res.partner", "id": index}, "payload": {}}
                         for index in range(4)]

    def setUp(self):
        super().setUp()
        Receiver.script[:], Receiver.received[:] = [], []

    def test_each_answer_becomes_its_result(self):
        Receiver.script[:] = [(200, {"id": 41}, {}, 0), (503, {}, {"Retry-After": "30"}, 0),
                              (422, {"error": "no name"}, {}, 0), (200, None, {}, 0)]
        results = self.env["sync.transport"]._send(self.system, self.envelopes)
        self.assertEqual([envelope["id"] for envelope in Receiver.received], ["uuid-0", "uuid-1", "uuid-2", "uuid-3"])
        self.assertEqual((results[0].status, results[0].remote_model, results[0].remote_ref),
                         ("acknowledged", "res.partner", "41"))
        self.assertEqual((results[1].status, results[1].retry_after), ("transient", 30.0))
        self.assertEqual(results[2].status, "permanent")
        self.assertIn("HTTP 422", results[2].reason)
        self.assertEqual((results[3].status, results[3].remote_ref), ("acknowledged", None))

    def test_a_hanging_or_absent_receiver_is_a_transient_failure(self):
        if compat.SERIES < 19:
            # 19.0's test framework raises every outbound timeout under 10 s to 10 s: a receiver hanging 2 s
            # answers in time there; the transport's code is the same on both series
            self.system.timeout = 0.3
            Receiver.script[:] = [(200, {}, {}, 2)]
            started = time.monotonic()
            [result] = self.env["sync.transport"]._send(self.system, self.envelopes[:1])
            self.assertLess(time.monotonic() - started, 1.5, "the call gives up at the system's timeout")
            self.assertEqual(result.status, "transient")
        self.system.webhook_url = "http://127.0.0.1:9/in"
        [result] = self.env["sync.transport"]._send(self.system, self.envelopes[:1])
        self.assertEqual(result.status, "transient")
        self.assertIn("cannot reach", result.reason)

    def test_connection_test(self):
        action = self.system.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("reachable (HTTP 200)", action["params"]["message"])
        self.system.webhook_url = "http://127.0.0.1:9/in"
        action = self.system.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("Cannot reach", action["params"]["message"])
