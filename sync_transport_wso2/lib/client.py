"""An HTTP client of a WSO2 broker endpoint.  Nothing here imports odoo.

Every request goes through :meth:`BrokerClient._request`, the transport's
one network choke point, always with a timeout, over a pooled keep-alive
``requests`` session, redirects not followed (a POST must not turn into a
GET).  Authentication:

``none``
    nothing;
``basic``
    HTTP basic authentication;
``oauth2``
    client credentials: the token is fetched once and reused until it
    expires; a 401 fetches it again, once, and sends the request again.

Secrets never appear in an error message, a log line or ``repr``.

Comparisons (reconciliation) go to the broker's optional comparison route:
:meth:`BrokerClient.post_compare` posts to ``<compare_url>/digest`` or
``<compare_url>/documents`` with the same authentication, TLS, extra
headers and timeout as the envelopes.
"""

import threading
import time

import requests
from requests.adapters import HTTPAdapter

__all__ = ["AUTH_MODES", "COMPARE_ROUTES", "BrokerClient", "BrokerError", "Credentials"]

AUTH_MODES = ("none", "basic", "oauth2")
# a token this close to its expiry is fetched again rather than sent
TOKEN_MARGIN = 30.0
#: the routes under the comparison URL
COMPARE_ROUTES = ("digest", "documents")


class BrokerError(Exception):
    """A request that got no HTTP answer, or a refused token request: ``transient`` says whether to try again."""

    def __init__(self, message, transient=True, stage="reachability"):
        super().__init__(message)
        self.transient = transient
        self.stage = stage


class Credentials:
    """How to authenticate: ``mode`` in :data:`AUTH_MODES` and what it needs."""

    __slots__ = ("client_id", "client_secret", "mode", "password", "scope", "token_url", "username")

    def __init__(self, mode="none", username=None, password=None, token_url=None, client_id=None,
                 client_secret=None, scope=None):
        if mode not in AUTH_MODES:
            raise ValueError(f"unknown authentication {mode!r} (expected one of {', '.join(AUTH_MODES)})")
        self.mode = mode
        self.username = username
        self.password = password
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope

    def missing(self):
        """The names of what ``mode`` needs and is not set."""
        needed = {"none": (), "basic": ("username", "password"),
                  "oauth2": ("token_url", "client_id", "client_secret")}[self.mode]
        return [name for name in needed if not getattr(self, name)]

    def __repr__(self):
        return f"<Credentials {self.mode}>"


class BrokerClient:
    """Requests to one broker endpoint: ``post(headers, body)`` returns ``(status, headers, text)``.

    ``verify`` is True, False or the path of a CA bundle; ``cert`` None or
    ``(certificate path, key path)`` for mutual TLS; ``compare_url`` None
    or the broker's comparison route (:meth:`post_compare`).
    """

    def __init__(self, url, timeout, credentials=None, verify=True, cert=None, headers=None, pool_size=4,
                 compare_url=None):
        if not timeout or timeout <= 0:
            raise ValueError("every request needs a positive timeout")
        if not url or not url.startswith(("http://", "https://")):
            raise ValueError(f"the broker URL must start with http:// or https://, got {url!r}")
        if compare_url and not compare_url.startswith(("http://", "https://")):
            raise ValueError(f"the comparison URL must start with http:// or https://, got {compare_url!r}")
        self.url = url
        self.compare_url = compare_url.rstrip("/") if compare_url else None
        self.timeout = float(timeout)
        self.credentials = credentials or Credentials()
        self.verify = verify
        self.cert = cert
        self.headers = dict(headers or {})
        self._token = None
        self._token_expires = 0.0
        self._token_lock = threading.Lock()
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(int(pool_size or 1), 1))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self):
        """Close the pooled connections."""
        self.session.close()

    def __repr__(self):
        return f"<BrokerClient {self.url} auth={self.credentials.mode}>"

    # ------------------------------------------------------------------
    def _request(self, method, url, **kwargs):
        """The one network call of the transport, always with the timeout; no answer becomes :class:`BrokerError`."""
        try:
            return self.session.request(method, url, timeout=self.timeout, verify=self.verify, cert=self.cert,
                                        allow_redirects=False, **kwargs)
        except requests.exceptions.SSLError as exc:
            raise BrokerError(f"TLS with {url} failed: {_short(exc)}", transient=False, stage="tls") from None
        except requests.exceptions.Timeout:
            raise BrokerError(f"{url} did not answer within {self.timeout:g} s") from None
        except requests.exceptions.ConnectionError as exc:
            raise BrokerError(f"cannot reach {url}: {type(exc).__name__}") from None
        except requests.exceptions.InvalidHeader:
            # never the exception's text: it quotes the header value, which may be a secret
            raise BrokerError(f"cannot send to {url}: an extra header is not a valid HTTP header", transient=False,
                              stage="tls") from None
        except requests.exceptions.RequestException as exc:
            # the connection broke in the middle of the answer: worth another try
            raise BrokerError(f"{url} broke off the answer: {type(exc).__name__}") from None
        except (OSError, ValueError) as exc:
            # a missing certificate file, a malformed URL: configuration, not the network
            raise BrokerError(f"cannot send to {url}: {type(exc).__name__}", transient=False, stage="tls") from None

    # ------------------------------------------------------------------
    def _auth_headers(self, refresh=False):
        creds = self.credentials
        if creds.mode == "basic":
            return {}
        if creds.mode == "oauth2":
            return {"Authorization": f"Bearer {self.token(refresh=refresh)}"}
        return {}

    def _auth(self):
        creds = self.credentials
        return (creds.username, creds.password) if creds.mode == "basic" else None

    def token(self, refresh=False):
        """The OAuth2 access token, fetched when there is none, it expires, or ``refresh``."""
        with self._token_lock:
            if refresh or not self._token or time.monotonic() >= self._token_expires:
                self._token, self._token_expires = self._fetch_token()
            return self._token

    def _fetch_token(self):
        creds = self.credentials
        data = {"grant_type": "client_credentials"}
        if creds.scope:
            data["scope"] = creds.scope
        response = self._request("POST", creds.token_url, data=data, auth=(creds.client_id, creds.client_secret),
                                 headers={"Accept": "application/json"})
        if response.status_code >= 500 or response.status_code == 429:
            raise BrokerError(f"the token endpoint {creds.token_url} answered HTTP {response.status_code}",
                              stage="authentication")
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not body.get("access_token"):
            error = body.get("error_description") or body.get("error") or f"HTTP {response.status_code}"
            raise BrokerError(f"the token endpoint {creds.token_url} refused the client credentials: {error}",
                              transient=False, stage="authentication")
        expires_in = float(body.get("expires_in") or 3600)
        return body["access_token"], time.monotonic() + max(expires_in - TOKEN_MARGIN, 0.0)

    def post(self, headers, body):
        """POST ``body`` (bytes) to the broker; ``(status, headers, text)``.

        With OAuth2, a 401 fetches a new token and sends once more.
        """
        return self._post(self.url, headers, body)

    def post_compare(self, route, headers, body):
        """POST a comparison request ``body`` (bytes) to ``<compare_url>/<route>``; ``(status, headers, text)``.

        ``route`` is ``digest`` or ``documents``.  Authenticated as :meth:`post`.
        """
        if route not in COMPARE_ROUTES:
            raise ValueError(f"unknown comparison route {route!r} (expected one of {', '.join(COMPARE_ROUTES)})")
        if not self.compare_url:
            raise BrokerError("no comparison URL is set", transient=False, stage="configuration")
        return self._post(f"{self.compare_url}/{route}", headers, body)

    def _post(self, url, headers, body):
        response = self._send(url, headers, body)
        if response.status_code == 401 and self.credentials.mode == "oauth2":
            response = self._send(url, headers, body, refresh=True)
        return response.status_code, response.headers, response.text

    def _send(self, url, headers, body, refresh=False):
        all_headers = {**self.headers, **headers, **self._auth_headers(refresh=refresh)}
        return self._request("POST", url, data=body, headers=all_headers, auth=self._auth())

    def check(self):
        """Check reachability, TLS and authentication apart; return ``[(stage, ok, detail)]``.

        An OPTIONS request tells whether the endpoint answers and whether the
        credentials are taken (401/403), without sending a message.
        """
        results = []
        try:
            if self.credentials.mode == "oauth2":
                self.token(refresh=True)
            response = self._request("OPTIONS", self.url, headers={**self.headers, **self._auth_headers()},
                                     auth=self._auth())
        except BrokerError as exc:
            stages = ["reachability", "tls", "authentication"]
            for stage in stages[:stages.index(exc.stage)]:
                results.append((stage, True, ""))
            results.append((exc.stage, False, str(exc)))
            return results
        results.append(("reachability", True, f"HTTP {response.status_code}"))
        results.append(("tls", True, "verified" if self.url.startswith("https://") and self.verify else
                        ("not verified" if self.url.startswith("https://") else "plain HTTP")))
        if response.status_code in (401, 403):
            detail = f"the broker refused the credentials (HTTP {response.status_code})"
            results.append(("authentication", False, detail))
        else:
            results.append(("authentication", True, self.credentials.mode))
        return results


def _short(exc):
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "\u2026"
