"""A broker for the tests: a real HTTP(S) server on loopback that behaves as a WSO2 mediation would.

Run as ``python3 broker_server.py --port N [--cert C --key K [--client-ca CA]]``;
it prints ``listening on <port>`` once it accepts connections.  It imports
nothing of Odoo.

``POST /services/sync``
    the broker endpoint: takes one envelope or a JSON array of them, and
    answers as the control settings say.
``POST /services/sync/compare/digest`` and ``/services/sync/compare/documents``
    the optional comparison route: relays the body to the same route of the
    ``relay`` target (``/sync/<code>/digest`` or ``/documents``, the sibling
    of its ``/messages`` URL, with its token) and answers with the target's
    status and body; 502 when there is no relay or it cannot be reached.
    ``require_token`` and ``script`` apply as to the endpoint.
``POST /token``
    OAuth2 client credentials (HTTP basic ``client``/``secret``); tokens
    live ``token_ttl`` seconds.
``POST /_control``
    JSON settings, merged into the current ones:

    ``script``: answers to give first, in order (``{"status", "body", "headers"}``);
    ``mode``: ``sync`` (200 with a result per message) or ``async`` (202,
    then each message is relayed and acknowledged from a thread);
    ``refuse``: ``{message id: {"permanent": bool, "reason": str}}``;
    ``require_token``: check the OAuth2 bearer token;
    ``token_ttl``: seconds a new token lives; ``expire_tokens``: true
    expires every token handed out so far;
    ``relay``: ``{"url", "token"}``: post each message there (the target's
    ``/sync/<code>/messages``); ``duplicate``: relay each message twice;
    ``ack``: ``{"url", "token"}``: post the acknowledgements there (the
    source's ``/sync/<code>/acks``);
    ``drop_acks``: N: in ``async`` mode, the next N acknowledgements are lost:
    the message is relayed, its acknowledgement never posted to ``ack``
    (counted down as they are dropped);
    ``reset_log``: true empties what ``/_log``, ``/_acks`` and ``/_dropped``
    show.
``GET /_log``
    what was received: ``[{"path", "headers", "body"}]``; ``GET /_acks`` the
    acknowledgements posted and the answers; ``GET /_dropped`` the
    acknowledgements dropped by ``drop_acks`` (``[{"message_id", "answer"}]``);
    ``GET /_tokens`` how many tokens were handed out.
"""

import argparse
import base64
import json
import secrets
import socket
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLIENT = ("client", "secret")
#: the comparison route: {path: the relay target's route}
COMPARE_PATHS = {"/services/sync/compare/digest": "digest", "/services/sync/compare/documents": "documents"}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.settings = {"script": [], "mode": "sync", "refuse": {}, "require_token": False, "token_ttl": 3600,
                         "relay": None, "ack": None, "duplicate": False, "drop_acks": 0}
        self.log = []
        self.tokens = {}
        self.issued = 0
        self.acks = []
        self.dropped = []


STATE = State()


def _post_json(url, token, body, timeout=30):
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an HTTP URL: {url!r}")
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={  # noqa: S310
        "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - checked above
        return json.loads(answer.read() or b"null")


def _relay_compare(relay, route, raw, timeout=30):
    """Post a comparison request to the relay target's ``/<route>``; ``(status, body bytes)`` of its answer."""
    base = relay["url"]
    if not base.startswith(("http://", "https://")) or not base.endswith("/messages"):
        return 502, json.dumps({"error": {"code": "bad_relay", "message": "the relay URL is not a /messages URL"}})
    url = base[:-len("messages")] + route
    request = urllib.request.Request(url, data=raw, method="POST", headers={  # noqa: S310 - checked above
        "Content-Type": "application/json", "Authorization": f"Bearer {relay['token']}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - checked above
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (OSError, ValueError) as exc:
        return 502, json.dumps({"error": {"code": "relay_failed", "message": f"relay failed: {exc}"}})


def _deliver(envelopes, settings):
    """Relay then acknowledge each message, as an asynchronous mediation does."""
    for envelope in envelopes:
        answer = {"message_id": envelope["id"], "status": "done", "permanent": False, "reason": None}
        relay = settings.get("relay")
        if relay:
            try:
                for _copy in range(2 if settings.get("duplicate") else 1):
                    result = _post_json(relay["url"], relay["token"], [envelope])
                answer = dict(result[0] if isinstance(result, list) else result, message_id=envelope["id"])
            except Exception as exc:  # told to the source as a transient failure
                answer = {"message_id": envelope["id"], "status": "error", "permanent": False,
                          "reason": f"relay failed: {exc}"}
        ack = settings.get("ack")
        if ack and _drop_ack(envelope, answer):
            continue
        if ack:
            for _attempt in range(20):
                try:
                    result = _post_json(ack["url"], ack["token"], answer)
                    with STATE.lock:
                        STATE.acks.append({"message_id": envelope["id"], "answer": result})
                    break
                except Exception:  # the source may be busy: try again
                    time.sleep(0.5)


def _drop_ack(envelope, answer):
    """Whether the acknowledgement of ``envelope`` is to be lost (``drop_acks``); counts it down."""
    with STATE.lock:
        if int(STATE.settings.get("drop_acks") or 0) <= 0:
            return False
        STATE.settings["drop_acks"] = int(STATE.settings["drop_acks"]) - 1
        STATE.dropped.append({"message_id": envelope["id"], "answer": answer})
        return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        result = super().setup()
        # headers and body go in two writes: without this, delayed ACKs add 40 ms to every answer
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return result

    def log_message(self, *args):
        pass

    def _answer(self, status, body=None, headers=None):
        raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None and not isinstance(body, bytes):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_OPTIONS(self):
        self._body()
        if STATE.settings["require_token"] and not self._token_ok():
            return self._answer(401, {"error": "invalid_token"})
        return self._answer(204, headers={"Allow": "POST, OPTIONS"})

    def do_GET(self):
        if self.path == "/_log":
            with STATE.lock:
                return self._answer(200, STATE.log)
        if self.path == "/_acks":
            with STATE.lock:
                return self._answer(200, STATE.acks)
        if self.path == "/_dropped":
            with STATE.lock:
                return self._answer(200, STATE.dropped)
        if self.path == "/_tokens":
            return self._answer(200, {"issued": STATE.issued})
        return self._answer(404, {"error": "not found"})

    def _token_ok(self):
        header = self.headers.get("Authorization") or ""
        token = header[7:] if header.startswith("Bearer ") else None
        with STATE.lock:
            expires = STATE.tokens.get(token)
        return bool(expires and expires > time.monotonic())

    def do_POST(self):
        raw = self._body()
        if self.path == "/_control":
            with STATE.lock:
                update = json.loads(raw)
                if update.pop("expire_tokens", False):
                    STATE.tokens = dict.fromkeys(STATE.tokens, 0.0)
                if update.pop("reset_log", False):
                    STATE.log, STATE.acks, STATE.dropped = [], [], []
                STATE.settings.update(update)
            return self._answer(200, {"ok": True})
        if self.path == "/token":
            expected = "Basic " + base64.b64encode(":".join(CLIENT).encode()).decode()
            if self.headers.get("Authorization") != expected:
                return self._answer(401, {"error": "invalid_client", "error_description": "unknown client"})
            token = secrets.token_hex(16)
            with STATE.lock:
                ttl = float(STATE.settings["token_ttl"])
                STATE.tokens[token] = time.monotonic() + ttl
                STATE.issued += 1
            return self._answer(200, {"access_token": token, "token_type": "Bearer", "expires_in": ttl})
        if self.path in COMPARE_PATHS:
            return self._compare(raw)
        if self.path != "/services/sync":
            return self._answer(404, {"error": "not found"})
        with STATE.lock:
            STATE.log.append({"path": self.path, "headers": dict(self.headers.items()),
                              "body": raw.decode("utf-8", "replace")})
            settings = json.loads(json.dumps(STATE.settings))
            scripted = STATE.settings["script"].pop(0) if STATE.settings["script"] else None
        if settings["require_token"] and not self._token_ok():
            return self._answer(401, {"error": "invalid_token"}, {"WWW-Authenticate": "Bearer"})
        if scripted:
            body = scripted.get("body")
            return self._answer(scripted["status"], body.encode() if isinstance(body, str) else body,
                                scripted.get("headers"))
        body = json.loads(raw)
        envelopes = body if isinstance(body, list) else [body]
        answers, accepted = [], []
        for envelope in envelopes:
            refusal = settings["refuse"].get(envelope["id"])
            if refusal:
                answers.append({"message_id": envelope["id"], "status": "error", **refusal})
            elif settings["mode"] == "async":
                answers.append({"message_id": envelope["id"], "status": "accepted"})
                accepted.append(envelope)
            else:
                answers.append({"message_id": envelope["id"], "status": "done", "remote_model": "broker",
                                "remote_ref": envelope["id"]})
        if settings["mode"] == "async":
            threading.Thread(target=_deliver, args=(accepted, settings), daemon=True).start()
            return self._answer(202, answers)
        return self._answer(200, answers)


    def _compare(self, raw):
        with STATE.lock:
            STATE.log.append({"path": self.path, "headers": dict(self.headers.items()),
                              "body": raw.decode("utf-8", "replace")})
            relay = STATE.settings["relay"]
            require_token = STATE.settings["require_token"]
            scripted = STATE.settings["script"].pop(0) if STATE.settings["script"] else None
        if require_token and not self._token_ok():
            return self._answer(401, {"error": "invalid_token"}, {"WWW-Authenticate": "Bearer"})
        if scripted:
            body = scripted.get("body")
            return self._answer(scripted["status"], body.encode() if isinstance(body, str) else body,
                                scripted.get("headers"))
        if not relay:
            return self._answer(502, {"error": {"code": "no_relay", "message": "the broker relays to no target"}})
        status, body = _relay_compare(relay, COMPARE_PATHS[self.path], raw)
        return self._answer(status, body if isinstance(body, bytes) else body.encode(),
                            {"Content-Type": "application/json"})


def serve(port, cert=None, key=None, client_ca=None):
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        if client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(client_ca)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    sys.stdout.write(f"listening on {server.server_address[1]}\n")
    sys.stdout.flush()
    server.serve_forever()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--client-ca")
    args = parser.parse_args(argv)
    serve(args.port, args.cert, args.key, args.client_ca)


if __name__ == "__main__":
    main()
