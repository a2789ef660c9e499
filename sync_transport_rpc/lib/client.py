"""A client of Odoo's external API over XML-RPC(S), JSON-RPC(S) or JSON-2; nothing here imports odoo.

Every call goes through :meth:`OdooRpcClient._request`, the transport's one
network choke point, always with a timeout, over a pooled keep-alive
``requests`` session.  Calls are stateless ``execute_kw`` (or, over Odoo
19's JSON-2, ``POST /json/2/<model>/<method>`` with the API key as bearer
token: see ``json2.py``): an API key cannot open a web session, and each
call is checked on its own by the remote Odoo.

Failures are :class:`RpcError` with a ``kind``:

``transient``
    connection refused, timeouts, HTTP 5xx, concurrency errors of the remote
    database: another try can succeed;
``auth``
    the login, password or API key, or the database, was refused;
``permanent``
    access errors, validation errors, unknown fields or models: retrying the
    same call cannot help.
"""

import contextlib
import itertools
import json
import socket
import threading
import time
import xmlrpc.client

import requests
from requests.adapters import HTTPAdapter

from .json2 import Json2CallError, json2_body, json2_error

__all__ = ["PROTOCOLS", "OdooRpcClient", "RpcError", "classify_remote_error"]

PROTOCOLS = {
    "xmlrpc": ("http", "xmlrpc"),
    "xmlrpcs": ("https", "xmlrpc"),
    "jsonrpc": ("http", "jsonrpc"),
    "jsonrpcs": ("https", "jsonrpc"),
    "json2": ("http", "json2"),
    "json2s": ("https", "json2"),
}
#: statuses of a JSON-2 answer that another try may turn into a success
JSON2_TRANSIENT_STATUSES = (408, 425, 429, 502, 503, 504)
TRANSIENT_MARKERS = (
    "could not serialize access",
    "deadlock detected",
    "lock not available",
    "could not obtain lock",
    "concurrent update",
    "serializationfailure",
    "too many connections",
)


def _socket_of(response):
    """The socket a streamed ``requests`` response reads from, or None where urllib3 hides it."""
    sock = getattr(getattr(response.raw, "_connection", None), "sock", None)
    if sock is None:
        # http.client hands the socket to the response when the server closes the connection after it
        reader = getattr(getattr(response.raw, "_fp", None), "fp", None)
        sock = getattr(getattr(reader, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


class _DeadlineExceeded(Exception):
    """The answer did not arrive in full within the client's timeout."""


class RpcError(Exception):
    """A failed call: ``kind`` is ``transient``, ``auth`` or ``permanent``; ``remote`` the remote's message."""

    def __init__(self, kind, message, remote=None):
        super().__init__(message)
        self.kind = kind
        self.remote = remote

    @property
    def transient(self):
        return self.kind == "transient"


def classify_remote_error(name, message):
    """The ``kind`` of an error the remote Odoo raised: its exception ``name`` and ``message``."""
    text = f"{name or ''} {message or ''}".lower()
    if any(marker in text for marker in TRANSIENT_MARKERS):
        return "transient"
    if "accessdenied" in text.replace(".", "").replace(" ", "") or "access denied" in text:
        return "auth"
    return "permanent"


class OdooRpcClient:
    """Calls to one remote Odoo database as one user.

    ``password`` is a password or an API key; it is sent with every call and
    never appears in an error message or a log line.
    """

    def __init__(self, protocol, host, port, database, login, password, timeout=30.0, verify_tls=True,
                 pool_size=4):
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {protocol!r} (expected one of {', '.join(PROTOCOLS)})")
        if not timeout or timeout <= 0:
            raise ValueError("every call needs a positive timeout")
        scheme, self.kind = PROTOCOLS[protocol]
        self.base_url = f"{scheme}://{host}:{int(port)}"
        self.database = database
        self.login = login
        self._password = password
        self.timeout = float(timeout)
        self.verify_tls = verify_tls
        self._uid = None
        self._ids = itertools.count(1)
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(int(pool_size or 1), 1))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self):
        """Close the pooled connections."""
        self.session.close()

    # ------------------------------------------------------------------
    def _request(self, method, path, data=None, content_type=None, headers=None, accept_statuses=()):
        """The one network call of the transport, always with the timeout; network failures become
        :class:`RpcError`.

        Returns the body, or ``(status, body)`` when ``accept_statuses`` lists
        statuses the caller reads itself."""
        all_headers = dict(headers or {})
        if content_type:
            all_headers["Content-Type"] = content_type
        deadline = time.monotonic() + self.timeout
        try:
            response = self.session.request(method, self.base_url + path, data=data, headers=all_headers,
                                            timeout=self.timeout, verify=self.verify_tls, stream=True)
            content = self._read_body(response, deadline)
        except _DeadlineExceeded:
            raise RpcError("transient", f"{self.base_url} did not answer within {self.timeout:g} s") from None
        except requests.exceptions.SSLError as exc:
            raise RpcError("permanent", f"TLS check of {self.base_url} failed: {exc}") from None
        except requests.exceptions.Timeout:
            raise RpcError("transient", f"{self.base_url} did not answer within {self.timeout:g} s") from None
        except requests.exceptions.ConnectionError as exc:
            raise RpcError("transient", f"cannot reach {self.base_url}: {type(exc).__name__}") from None
        except requests.exceptions.TooManyRedirects:
            raise RpcError("transient", f"{self.base_url}{path} redirects without end") from None
        except requests.exceptions.ContentDecodingError:
            raise RpcError("transient", f"{self.base_url}{path} answered a body that cannot be decoded "
                                        "(bad compression)") from None
        except requests.exceptions.RequestException as exc:
            # anything else requests refuses (a broken chunked body, an invalid redirect...): the caller's
            # RpcError, never a traceback; another try can succeed, as for the other network failures
            raise RpcError("transient", f"{self.base_url}{path} failed: {type(exc).__name__}") from None
        if response.status_code in accept_statuses:
            return response.status_code, content
        if response.status_code >= 500 or response.status_code in (429, 502, 503, 504):
            raise RpcError("transient", f"{self.base_url}{path} answered HTTP {response.status_code}")
        if response.status_code == 404:
            raise RpcError("permanent", f"{self.base_url}{path} does not exist (HTTP 404): is it an Odoo server?")
        if response.status_code >= 300 or accept_statuses:
            raise RpcError("permanent", f"{self.base_url}{path} answered HTTP {response.status_code}")
        return content

    @staticmethod
    def _read_body(response, deadline):
        """The whole body of ``response``, read before ``deadline``: the timeout is for the whole answer.

        ``requests``' timeout bounds each read only, so a remote trickling its
        answer a byte at a time would hold a scheduler's slot for ever: a
        watchdog shuts the connection's socket down at the deadline, which ends
        the blocked read."""
        fired = []
        sock = _socket_of(response)

        def _abort():
            fired.append(True)
            # the answer may have ended and the socket closed just now: nothing left to stop
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

        watchdog = threading.Timer(max(deadline - time.monotonic(), 0.0), _abort) if sock is not None else None
        if watchdog is not None:
            watchdog.daemon = True
            watchdog.start()
        try:
            content = response.content
        except requests.exceptions.RequestException:
            if fired or time.monotonic() > deadline:
                raise _DeadlineExceeded from None
            raise
        finally:
            if watchdog is not None:
                watchdog.cancel()
            response.close()
        if fired or time.monotonic() > deadline:
            raise _DeadlineExceeded
        return content

    def call(self, service, method, *args):
        """Call ``service.method(*args)`` on the remote server (XML-RPC and JSON-RPC: JSON-2 has no services)."""
        if self.kind == "jsonrpc":
            return self._call_jsonrpc(service, method, args)
        if self.kind == "json2":
            raise RpcError("permanent", f"{service}.{method}: the JSON-2 API has no services; use execute()")
        return self._call_xmlrpc(service, method, args)

    def _call_jsonrpc(self, service, method, args):
        return self._post_jsonrpc("/jsonrpc", {"service": service, "method": method, "args": list(args)})

    def _post_jsonrpc(self, path, params):
        payload = json.dumps({"jsonrpc": "2.0", "method": "call", "id": next(self._ids), "params": params})
        raw = self._request("POST", path, payload.encode(), "application/json")
        try:
            body = json.loads(raw)
        except ValueError:
            raise RpcError("transient", f"{self.base_url}{path} answered something that is not JSON") from None
        if not isinstance(body, dict):
            raise RpcError("transient", f"{self.base_url}{path} answered JSON that is not a JSON-RPC answer")
        error = body.get("error")
        if error:
            if not isinstance(error, dict) or not isinstance(error.get("data") or {}, dict):
                # not the error an Odoo server sends (a proxy, another server): nothing says a retry cannot
                # help, so transient, as the other answers that are no JSON-RPC answer
                raise RpcError("transient", f"{self.base_url}{path} answered an error: {str(error)[:200]}",
                               remote=str(error))
            data = error.get("data") or {}
            name, message = str(data.get("name") or ""), str(data.get("message") or error.get("message") or "")
            raise RpcError(classify_remote_error(name, message), f"{name}: {message}".strip(": "), remote=message)
        return body.get("result")

    def _call_xmlrpc(self, service, method, args):
        payload = xmlrpc.client.dumps(tuple(args), method, allow_none=True).encode()
        raw = self._request("POST", f"/xmlrpc/2/{service}", payload, "text/xml")
        try:
            return xmlrpc.client.loads(raw, use_builtin_types=True)[0][0]
        except xmlrpc.client.Fault as fault:
            text = fault.faultString or ""
            first = text.strip().splitlines()[-1] if text.strip() else str(fault.faultCode)
            raise RpcError(classify_remote_error(str(fault.faultCode), text), first, remote=first) from None
        except (xmlrpc.client.ResponseError, ValueError, IndexError):
            raise RpcError("transient", f"{self.base_url} answered something that is not XML-RPC") from None

    def post_envelopes(self, own_code, token, envelopes):
        """Post envelopes to a remote suite's ``/sync/<own_code>/messages``; return its answers, in order.

        The protocol's own statuses are answers, not failures: 200 (per
        envelope answers), 409, 422 and 503 for a single envelope; a refusal
        of the request (401, 403, 413, 415, 400) fails every envelope; a 404
        (the remote's database unavailable) is transient.
        """
        status, raw = self._request(
            "POST", f"/sync/{own_code}/messages", json.dumps(envelopes).encode(), "application/json",
            headers={"Authorization": f"Bearer {token}"},
            accept_statuses=(200, 400, 401, 403, 404, 409, 413, 415, 422, 503),
        )
        if status == 404:
            # an Odoo server answers 404 to every route of a database it cannot reach (PostgreSQL restarting,
            # the database being restored) as well as where the suite is missing: tried again on the retry
            # delays, never lost on a passing outage; a missing suite ends failed after the attempts
            raise RpcError("transient", f"{self.base_url}/sync/{own_code}/messages is not there (HTTP 404): the "
                                        "remote database is unavailable, or does not run the suite")
        try:
            body = json.loads(raw)
        except ValueError:
            raise RpcError("transient", f"{self.base_url} answered something that is not JSON") from None
        if isinstance(body, dict) and "error" in body:
            error = body["error"] if isinstance(body["error"], dict) else {"message": body["error"]}
            kind = "transient" if status == 503 else ("auth" if status in (401, 403) else "permanent")
            raise RpcError(kind, f"{self.base_url} refused the request ({status} {error.get('code')}): "
                                 f"{error.get('message')}", remote=error.get("message"))
        answers = body if isinstance(body, list) else [body]
        if len(answers) != len(envelopes):
            raise RpcError("transient", f"{self.base_url} answered {len(answers)} results for {len(envelopes)} "
                                        "envelopes")
        return answers

    def post_compare(self, own_code, token, route, body):
        """Post a comparison request to a remote suite's ``/sync/<own_code>/<route>`` (``digest`` or
        ``documents``); return its decoded answer.  Every refusal raises :class:`RpcError` saying why."""
        path = f"/sync/{own_code}/{route}"
        status, raw = self._request(
            "POST", path, json.dumps(body).encode(), "application/json",
            headers={"Authorization": f"Bearer {token}"},
            accept_statuses=(200, 400, 401, 403, 404, 413, 415, 503),
        )
        try:
            answer = json.loads(raw)
        except ValueError:
            if status == 404:
                raise RpcError("permanent", f"{self.base_url}{path} is not there (HTTP 404): the remote suite is "
                                            "older than comparisons, or its database is unavailable") from None
            raise RpcError("transient", f"{self.base_url} answered something that is not JSON") from None
        if status != 200 or not isinstance(answer, dict):
            error = answer.get("error") if isinstance(answer, dict) else None
            error = error if isinstance(error, dict) else {"message": str(answer)[:200]}
            kind = "transient" if status == 503 else ("auth" if status in (401, 403) else "permanent")
            raise RpcError(kind, f"{self.base_url} refused the comparison ({status} {error.get('code')}): "
                                 f"{error.get('message')}", remote=error.get("message"))
        return answer

    def get_health(self, own_code, token):
        """``(status, body)`` of the remote suite's ``GET /sync/<own_code>/health``: checks the token."""
        return self._request("GET", f"/sync/{own_code}/health", headers={"Authorization": f"Bearer {token}"},
                             accept_statuses=tuple(range(100, 600)))

    # ------------------------------------------------------------------
    def version(self):
        """The remote server's version information (no login)."""
        if self.kind == "json2":
            # the web client's route: JSON-2 has no "common" service
            return self._post_jsonrpc("/web/webclient/version_info", {})
        return self.call("common", "version")

    @property
    def uid(self):
        """The remote user id; the first access logs in.

        Over JSON-2 the API key alone identifies the user; the login must be
        its user's, whose id is read with the key."""
        if self._uid is None:
            if self.kind == "json2":
                self._uid = self._json2_uid()
            else:
                uid = self.call("common", "authenticate", self.database, self.login, self._password, {})
                if not uid:
                    raise RpcError("auth", f"login {self.login!r} refused by database {self.database!r}")
                self._uid = uid
        return self._uid

    def _json2_uid(self):
        # refused (401) when the key or the database is; its "uid" is the key's user, whom every call runs as
        context = self.execute("res.users", "context_get")
        key_uid = context.get("uid") if isinstance(context, dict) else None
        found = self.execute("res.users", "search_read", [("login", "=", self.login)], fields=["id"], limit=1)
        if not key_uid or not found or found[0]["id"] != key_uid:
            # a key of another user than the login configured: every call would run with that user's rights
            raise RpcError("auth", f"the API key is accepted by database {self.database!r}, but it is not the key "
                                   f"of login {self.login!r}: set the key of that user, or its login")
        return key_uid

    def execute(self, model, method, *args, **kwargs):
        """``model.method(*args, **kwargs)`` as the configured user (``execute_kw``, or JSON-2's named call)."""
        if self.kind == "json2":
            return self._execute_json2(model, method, args, kwargs)
        return self.call("object", "execute_kw", self.database, self.uid, self._password, model, method, list(args),
                         kwargs)

    def _execute_json2(self, model, method, args, kwargs):
        try:
            body = json2_body(model, method, args, kwargs)
        except Json2CallError as exc:
            raise RpcError("permanent", str(exc)) from None
        path = f"/json/2/{model}/{method}"
        status, raw = self._request(
            "POST", path, json.dumps(body).encode(), "application/json",
            headers={"Authorization": f"bearer {self._password}", "X-Odoo-Database": self.database},
            accept_statuses=tuple(range(100, 600)),
        )
        try:
            answer, is_json = (json.loads(raw) if raw else None), True
        except ValueError:
            answer, is_json = None, False
        if status == 200:
            if not is_json:
                raise RpcError("transient", f"{self.base_url}{path} answered something that is not JSON")
            return answer
        name, message = json2_error(status, answer)
        if status == 401:
            kind = "auth"
        elif status in JSON2_TRANSIENT_STATUSES or (not name and status >= 500):
            # a proxy's or an overloaded server's page: another try can succeed, as over JSON-RPC
            kind = "transient"
        elif status == 404 and not name:
            # what Odoo answers for a database it cannot reach (PostgreSQL restarting, a restore): as the suite
            # endpoint's 404, tried again on the retry delays, never lost on a passing outage
            kind = "transient"
            message = (f"{path} not found (HTTP 404): database {self.database!r} is unavailable, or the remote is "
                       "no Odoo 19 or later")
        else:
            kind = classify_remote_error(name, message)
        raise RpcError(kind, f"{name}: {message}".strip(": "), remote=message)

    def __repr__(self):
        # never the password
        return f"<OdooRpcClient {self.kind} {self.base_url} db={self.database!r} login={self.login!r}>"
