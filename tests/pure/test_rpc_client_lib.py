"""The RPC transport's HTTP client (sync_transport_rpc/lib/client.py) against a real loopback server, without Odoo."""

import json
import threading
import time
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


class Trickle(BaseHTTPRequestHandler):
    """A valid JSON-RPC result, one byte every 15 ms (1.5 s in all): each read is quick, the whole answer is not."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": 2}).encode() + b" " * 60
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        try:
            for byte in body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.015)
        except OSError:
            pass


@pytest.mark.parametrize("protocol_version", ["HTTP/1.0", "HTTP/1.1"])
def test_the_timeout_bounds_the_whole_answer(protocol_version):
    # a remote trickling its answer must not hold a scheduler past the system's timeout (1 s here)
    handler = type("TrickleVersion", (Trickle,), {"protocol_version": protocol_version})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        slow = client.OdooRpcClient("jsonrpc", "127.0.0.1", server.server_address[1], "db", "u", "p", timeout=1)
        started = time.monotonic()
        with pytest.raises(client.RpcError) as caught:
            slow.call("common", "version")
        elapsed = time.monotonic() - started
        assert caught.value.kind == "transient"
        assert "did not answer within 1 s" in str(caught.value)
        assert elapsed < 2.5, elapsed
        # the same answer arrives in full when the timeout allows it, on a fresh and on a reused connection
        patient = client.OdooRpcClient("jsonrpc", "127.0.0.1", server.server_address[1], "db", "u", "p", timeout=30)
        assert patient.call("common", "version") == 2
        assert patient.call("common", "version") == 2
    finally:
        server.shutdown()
        server.server_close()


def test_json2_names_the_positional_arguments_of_the_methods_the_suite_calls():
    from sync_transport_rpc_lib import json2

    assert json2.json2_body("res.partner", "search_read", [[("id", ">", 1)]], {"fields": ["name"], "limit": 5}) == {
        "domain": [("id", ">", 1)], "fields": ["name"], "limit": 5}
    assert json2.json2_body("res.partner", "write", [[1, 2], {"active": False}], {}) == {
        "ids": [1, 2], "vals": {"active": False}}
    assert json2.json2_body("res.partner", "unlink", [[3]], {"context": {"active_test": False}}) == {
        "ids": [3], "context": {"active_test": False}}
    assert json2.json2_body("res.partner", "name_search", ["Acme", [], "="], {"limit": 2}) == {
        "name": "Acme", "domain": [], "operator": "=", "limit": 2}
    assert json2.json2_body("res.partner", "load", [["name"], [["A"]]], {}) == {"fields": ["name"], "data": [["A"]]}


@pytest.mark.parametrize(("method", "args", "kwargs", "reason"), [
    ("do_something", [1], {}, "arguments by name only"),
    ("search", [[], 0, 5, "id", "extra"], {}, "at most 4 positional arguments"),
    ("search", [[]], {"domain": []}, "got domain twice"),
])
def test_json2_refuses_a_call_it_cannot_name(method, args, kwargs, reason):
    from sync_transport_rpc_lib import json2

    with pytest.raises(json2.Json2CallError, match=reason):
        json2.json2_body("res.partner", method, args, kwargs)


def test_json2_errors_keep_the_name_and_message_and_never_the_traceback():
    from sync_transport_rpc_lib import json2

    body = {"name": "odoo.exceptions.AccessError", "message": "no", "debug": "Traceback (most recent call last)"}
    assert json2.json2_error(403, body) == ("odoo.exceptions.AccessError", "no")
    assert json2.json2_error(502, None) == ("", "HTTP 502")


@pytest.mark.parametrize(("status", "body", "kind"), [
    (500, b"<html>Internal Server Error</html>", "transient"),
    (502, b"<html>Bad Gateway</html>", "transient"),
    (404, b"<html>Not Found</html>", "transient"),
    (401, json.dumps({"name": "werkzeug.exceptions.Unauthorized", "message": "Invalid apikey"}).encode(), "auth"),
    (404, json.dumps({"name": "werkzeug.exceptions.NotFound", "message": "the model 'x' does not exist"}).encode(),
     "permanent"),
    (422, json.dumps({"name": "odoo.exceptions.ValidationError", "message": "no"}).encode(), "permanent"),
    (500, json.dumps({"name": "psycopg2.errors.SerializationFailure", "message": "could not serialize access"})
     .encode(), "transient"),
])
def test_json2_answers_keep_the_meaning_they_have_over_json_rpc(status, body, kind):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Remote)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        Remote.status, Remote.body = status, body
        json2 = client.OdooRpcClient("json2", "127.0.0.1", server.server_address[1], "db", "login", "key", timeout=5)
        with pytest.raises(client.RpcError) as caught:
            json2.execute("res.partner", "search", [])
        assert caught.value.kind == kind, str(caught.value)
        assert "key" not in str(caught.value).replace("apikey", "")
    finally:
        server.shutdown()
        server.server_close()
