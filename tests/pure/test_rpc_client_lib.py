"""The RPC transport's HTTP client (sync_transport_rpc/lib/client.py) against a real loopback server, without Odoo."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sync_transport_rpc_lib import client


class Remote(BaseHTTPRequestHandler):
    """Answers every POST with the status and body set on the class."""

    status, body = 200, b"[]"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html" if self.status == 404 else "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


@pytest.fixture
def remote():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Remote)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield client.OdooRpcClient("jsonrpc", "127.0.0.1", server.server_address[1], "db", "login", "secret", timeout=5)
    server.shutdown()
    server.server_close()


def test_a_receiver_without_its_database_is_a_passing_outage(remote):
    # what Odoo answers to /sync/<code>/messages while PostgreSQL restarts: its 404 page
    Remote.status, Remote.body = 404, b"<html>Not Found</html>"
    with pytest.raises(client.RpcError) as caught:
        remote.post_envelopes("src", "token", [{"id": "e1"}])
    assert caught.value.kind == "transient"
    assert "HTTP 404" in str(caught.value)


def test_the_protocols_refusals_keep_their_meaning(remote):
    Remote.status, Remote.body = 401, json.dumps({"error": {"code": "unauthorized", "message": "no"}}).encode()
    with pytest.raises(client.RpcError) as caught:
        remote.post_envelopes("src", "token", [{"id": "e1"}])
    assert caught.value.kind == "auth"
    Remote.status, Remote.body = 200, json.dumps([{"message_id": "e1", "status": "done"}]).encode()
    assert remote.post_envelopes("src", "token", [{"id": "e1"}]) == [{"message_id": "e1", "status": "done"}]
