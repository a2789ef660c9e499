"""The inbound HTTP protocol: ``/sync/<code>/messages``, ``/acks``, ``/health``, ``/digest`` and ``/documents``.

The routes use ``auth='none'`` and authenticate the calling system by its
bearer token themselves, so that every refusal is the protocol's JSON error
(see ``lib/inbound.py``).  Odoo picks the database by its database filter
(or the only database), never by a URL parameter.
"""

import logging

from werkzeug.exceptions import RequestEntityTooLarge

from odoo import http
from odoo.http import request

from ..lib.compare import CompareProtocolError
from ..lib.inbound import InboundError, ack_item, as_items, bearer_token, check_content_type, parse_body

_logger = logging.getLogger(__name__)

# a paused system is asked to come back after this many seconds
PAUSED_RETRY_AFTER = 300


class SyncInboundController(http.Controller):
    @http.route("/sync/<string:code>/messages", type="http", auth="none", csrf=False,
                save_session=False, readonly=False)
    def sync_messages(self, code, **_kwargs):
        """Receive one envelope or an array of envelopes from system ``code``."""
        return self._serve(code, self._receive_messages, with_body=True, method="POST")

    @http.route("/sync/<string:code>/acks", type="http", auth="none", csrf=False,
                save_session=False, readonly=False)
    def sync_acks(self, code, **_kwargs):
        """Receive one acknowledgement or an array of them from system ``code``."""
        return self._serve(code, self._receive_acks, with_body=True, method="POST")

    @http.route("/sync/<string:code>/health", type="http", auth="none", csrf=False,
                save_session=False, readonly=True)
    def sync_health(self, code, **_kwargs):
        """The outgoing queue of system ``code``, for monitoring."""
        return self._serve(code, lambda system, _body: (200, system._health()), with_body=False, method="GET")

    @http.route("/sync/<string:code>/digest", type="http", auth="none", csrf=False,
                save_session=False, readonly=True)
    def sync_digest(self, code, **_kwargs):
        """Digests of the documents this database holds of records of system ``code`` (reconciliation)."""
        return self._serve(code, lambda system, body: self._compare(system, body, False), with_body=True,
                           method="POST")

    @http.route("/sync/<string:code>/documents", type="http", auth="none", csrf=False,
                save_session=False, readonly=True)
    def sync_documents(self, code, **_kwargs):
        """The documents this database holds of records of system ``code``, for those whose digests differ."""
        return self._serve(code, lambda system, body: self._compare(system, body, True), with_body=True,
                           method="POST")

    # ------------------------------------------------------------------
    def _serve(self, code, handler, with_body, method):
        httprequest = request.httprequest
        try:
            # checked here rather than by the route, so that a wrong method gets the protocol's JSON too
            if httprequest.method != method and not (method == "GET" and httprequest.method == "HEAD"):
                raise InboundError(405, "method_not_allowed", f"use {method} on this path",
                                   headers={"Allow": method})
            system = self._authenticate(code)
            body = self._read_body(system) if with_body else None
            status, data = handler(system, body)
        except InboundError as exc:
            # never the token: the code, the peer and why
            _logger.info("Refused %s %s from %s: %s (%s)", httprequest.method, httprequest.path,
                         httprequest.remote_addr, exc.code, exc.message)
            return request.make_json_response(exc.body(), headers=list(exc.headers.items()), status=exc.status)
        return request.make_json_response(data, status=status)

    def _authenticate(self, code):
        """The calling system, once its bearer token is checked; refusals say as little as they can."""
        token = bearer_token(request.httprequest.headers.get("Authorization"))
        system = request.env["sync.system"].sudo()._authenticate_inbound(code, token) if token else None
        if not system:
            raise InboundError(401, "unauthorized", "a valid bearer token of this system is required",
                               headers={"WWW-Authenticate": 'Bearer realm="sync"'})
        if not system.active:
            raise InboundError(403, "archived", f"system {code} is archived in this database")
        if system.paused:
            raise InboundError(503, "paused", f"system {code} is paused in this database; try again later",
                               headers={"Retry-After": str(PAUSED_RETRY_AFTER)})
        return system

    def _read_body(self, system):
        httprequest = request.httprequest
        check_content_type(httprequest.headers.get("Content-Type"))
        limit = system.inbound_max_bytes
        if httprequest.content_length is not None and httprequest.content_length > limit:
            raise InboundError(413, "too_large",
                               f"the body has {httprequest.content_length} bytes; this system may send {limit}")
        # a body without Content-Length (chunked) is cut at the limit too, not read whole first
        httprequest.max_content_length = limit
        try:
            # cached: Odoo runs the request again after a serialization failure
            raw = httprequest.get_data(cache=True)
        except RequestEntityTooLarge:
            raise InboundError(413, "too_large", f"the body is larger than this system may send ({limit})") from None
        return parse_body(raw, max_bytes=limit)

    def _receive_messages(self, system, body):
        items, is_batch = as_items(body, system.batch_size)
        results = request.env["sync.inbound.message"].sudo()._receive_envelopes(system, items)
        if is_batch:
            return 200, [answer for _status, answer in results]
        return results[0]

    def _compare(self, system, body, documents):
        try:
            answer = request.env["sync.data.type"].sudo()._compare_answer(system, body, documents=documents)
        except CompareProtocolError as exc:
            raise InboundError(400, "bad_request", str(exc)) from None
        except LookupError as exc:
            raise InboundError(404, "unknown_type", str(exc.args[0])) from None
        return 200, answer

    def _receive_acks(self, system, body):
        items, is_batch = as_items(body, system.batch_size)
        Responses = request.env["sync.response"].sudo()
        answers = []
        for item in items:
            ack, problem = ack_item(item)
            if problem:
                message_id = item.get("message_id") if isinstance(item, dict) else None
                answers.append({"message_id": message_id, "result": "unknown", "error": problem})
                continue
            answers.append({"message_id": ack["message_id"], "result": Responses._receive(system, ack)})
        if is_batch:
            return 200, answers
        return (422 if "error" in answers[0] else 200), answers[0]
