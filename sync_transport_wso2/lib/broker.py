"""The broker protocol: requests built from envelopes, answers turned into outcomes.  Nothing here imports odoo.

A request carries one envelope (a JSON object) or a batch (a JSON array).
Routing travels in the envelope and, so that a mediation can route without
parsing the body, in headers:

=====================  ================================================
header                 value
=====================  ================================================
``X-Sync-Source``      the database the record lives in
``X-Sync-Targets``     the codes to deliver to, comma-separated
``X-Sync-Type``        the message type (one envelope, or a batch of one type)
``X-Sync-Operation``   ``upsert`` or ``delete`` (one envelope)
``X-Sync-Message-Id``  the envelope id (one envelope)
``X-Sync-Batch-Size``  the number of envelopes (a batch)
=====================  ================================================

Answers:

* 2xx: each envelope is acknowledged (``sync`` mode) or accepted, its
  acknowledgement to come later (``async`` mode, or a 202 in any mode),
  unless a JSON body answers for it: an object or a list of objects in the
  format of the suite's inbound answer (``message_id``, ``status`` ``done``
  or ``error``, ``permanent``, ``reason``, ``remote_model``, ``remote_ref``),
  or ``status`` ``accepted``.
* 408, 429 and 5xx: transient, after ``Retry-After`` when given.
* other 4xx: permanent, with the start of the body as the reason.

The optional comparison route (reconciliation): a system whose *Comparison
URL* is set compares its records with the receiving suite through the
broker.  ``POST <comparison URL>/digest`` and ``POST <comparison
URL>/documents`` carry the bodies of the suite's ``/sync/<code>/digest`` and
``/sync/<code>/documents`` (``sync_queue/lib/compare.py``), plus
``"source"``, the code of the database asking, and the broker relays each
to the same route of the target's suite (the sibling of the ``/messages``
URL it relays envelopes to, with the same token), answering with the
target's status and JSON body unchanged.  Routing headers:

=====================  ================================================
header                 value
=====================  ================================================
``X-Sync-Source``      the database asking (the records' source)
``X-Sync-Targets``     the one code the comparison asks
``X-Sync-Type``        the message type compared
``X-Sync-Compare``     ``digest`` or ``documents``
=====================  ================================================

Bodies (see :func:`compare_request`, :func:`compare_answer`)::

    {"type": "<message type>", "model": "<sender model>", "ids": [1, 2], "properties": ["name", ...],
     "source": "<code>"}
    -> 200 {"type", "properties", "records": [{"id", "remote_ref", "digest"} | {"id", "digest": null}]}
       (``/documents``: ``"document"`` instead of ``"digest"``)
    {"type", "model", "after": 0, "limit": 1000, "source"}            (a listing: no ids)
    -> 200 {"records": [{"id", "remote_ref"}], "next": <id> | null}

Any other status, or a body that is not a JSON object, is a refusal: the
comparison stops, saying why (the suite's ``{"error": {"code",
"message"}}`` when the body has it, else the start of the body).  A broker
without the route answers 404; a system without a comparison URL cannot
compare.
"""

import datetime
import email.utils
import json

__all__ = ["CompareRefused", "Outcome", "compare_answer", "compare_request", "interpret", "parse_retry_after",
           "request_for"]

REASON_CHARS = 300
TRANSIENT_STATUSES = frozenset({408, 425, 429})
ACK_MODES = ("sync", "async")
# the statuses of a per-message answer
ANSWER_STATUSES = ("done", "accepted", "error")
# a day: a broker's absurd Retry-After must not overflow the next attempt's date
MAX_RETRY_AFTER = 86400.0


class Outcome:
    """What became of one envelope: ``status`` ``acknowledged`` | ``accepted`` | ``transient`` | ``permanent``."""

    __slots__ = ("reason", "remote_model", "remote_ref", "retry_after", "status")

    def __init__(self, status, reason="", retry_after=None, remote_model=None, remote_ref=None):
        self.status = status
        self.reason = reason
        self.retry_after = retry_after
        self.remote_model = remote_model
        self.remote_ref = remote_ref

    def __eq__(self, other):
        return isinstance(other, Outcome) and all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __hash__(self):
        return hash(self.status)

    def __repr__(self):
        return f"Outcome({self.status!r}, {self.reason!r}, retry_after={self.retry_after!r})"


def request_for(envelopes, batched, extra_headers=None):
    """``(headers, body bytes)`` of the request that carries ``envelopes`` (one, unless ``batched``)."""
    if not envelopes:
        raise ValueError("a request carries at least one envelope")
    if not batched and len(envelopes) != 1:
        raise ValueError("one envelope per request: split the batch")
    headers = {**(extra_headers or {}), "Content-Type": "application/json", "Accept": "application/json"}
    first = envelopes[0]
    headers["X-Sync-Source"] = first["source"]
    targets = []
    for envelope in envelopes:
        targets.extend(target for target in envelope.get("targets") or [] if target not in targets)
    headers["X-Sync-Targets"] = ",".join(targets)
    types = {envelope["type"] for envelope in envelopes}
    if len(types) == 1:
        headers["X-Sync-Type"] = first["type"]
    if batched:
        headers["X-Sync-Batch-Size"] = str(len(envelopes))
        body = envelopes
    else:
        headers["X-Sync-Operation"] = first["operation"]
        headers["X-Sync-Message-Id"] = first["id"]
        body = first
    return headers, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), or None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER)


def _clip(text):
    text = " ".join((text or "").split())
    return text[:REASON_CHARS] + "\u2026" if len(text) > REASON_CHARS else text


def _reason(status, text):
    text = _clip(text)
    return f"HTTP {status}: {text}" if text else f"HTTP {status}"


def _answers(text, envelopes=()):
    """``{message id: answer}`` of a JSON body; empty when the body says nothing per message.

    An answer without ``message_id`` (``{"status": "error", ...}``) answers
    for every envelope of the request: an error never passes for an
    acknowledgement.
    """
    try:
        body = json.loads(text) if text and text.strip() else None
    except ValueError:
        return {}
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        body = body["results"]
    if isinstance(body, dict) and "message_id" not in body and body.get("status") in ANSWER_STATUSES:
        return {envelope["id"]: body for envelope in envelopes}
    items = body if isinstance(body, list) else [body]
    return {item["message_id"]: item for item in items
            if isinstance(item, dict) and isinstance(item.get("message_id"), str)}



def _answer_outcome(answer, default):
    status = answer.get("status")
    if status == "done":
        ref = answer.get("remote_ref")
        return Outcome("acknowledged", remote_model=answer.get("remote_model"),
                       remote_ref=None if ref is None else str(ref))
    if status == "accepted":
        return Outcome("accepted")
    if status == "error":
        reason = str(answer.get("reason") or "refused by the broker")
        return Outcome("permanent" if answer.get("permanent") else "transient", reason)
    return default


def interpret(status, headers, text, envelopes, ack_mode="sync", now=None):
    """The outcome of each of ``envelopes`` (in order) from the broker's answer.

    ``headers``: a case-insensitive mapping of the answer's headers.
    """
    if ack_mode not in ACK_MODES:
        raise ValueError(f"unknown acknowledgement mode {ack_mode!r} (expected one of {', '.join(ACK_MODES)})")
    count = len(envelopes)
    if 200 <= status < 300:
        default = Outcome("accepted" if ack_mode == "async" or status == 202 else "acknowledged")
        answers = _answers(text, envelopes)
        return [_answer_outcome(answers[e["id"]], default) if e["id"] in answers else default for e in envelopes]
    if status in TRANSIENT_STATUSES or status >= 500:
        retry_after = parse_retry_after((headers or {}).get("Retry-After"), now=now)
        return [Outcome("transient", _reason(status, text), retry_after=retry_after)] * count
    return [Outcome("permanent", _reason(status, text))] * count


# ----------------------------------------------------------------------
# The comparison route
# ----------------------------------------------------------------------
class CompareRefused(ValueError):
    """A comparison request the broker (or the suite behind it) did not answer with a JSON object: the text says why."""


def compare_request(route, source, targets, body, extra_headers=None):
    """``(headers, body bytes)`` of a comparison request (``route``: ``digest`` or ``documents``) of ``source``.

    ``body`` is the suite's digest request (:func:`sync_queue.lib.compare.compare_by_digest`
    builds it); ``"source"`` is added to it.  ``targets`` is the list of codes
    asked (one).
    """
    headers = {**(extra_headers or {}), "Content-Type": "application/json", "Accept": "application/json",
               "X-Sync-Source": source, "X-Sync-Targets": ",".join(targets), "X-Sync-Compare": route}
    if body.get("type"):
        headers["X-Sync-Type"] = body["type"]
    return headers, json.dumps({**body, "source": source}, ensure_ascii=False, separators=(",", ":")).encode()


def compare_answer(status, text, url):
    """The decoded answer (a JSON object) of a comparison request to ``url``; :class:`CompareRefused` otherwise."""
    try:
        answer = json.loads(text) if text and text.strip() else None
    except ValueError:
        answer = None
    if status == 200 and isinstance(answer, dict):
        return answer
    if status == 200:
        raise CompareRefused(f"{url} answered something that is not a JSON object")
    error = answer.get("error") if isinstance(answer, dict) else None
    if isinstance(error, dict) and error.get("message"):
        code = f" {error['code']}" if error.get("code") else ""
        raise CompareRefused(f"{url} refused the comparison (HTTP {status}{code}): {_clip(str(error['message']))}")
    if status == 404:
        raise CompareRefused(f"{url} is not there (HTTP 404): the broker has no comparison route there")
    raise CompareRefused(f"{url} refused the comparison ({_reason(status, text)})")
