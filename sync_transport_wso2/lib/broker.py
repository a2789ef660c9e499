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
"""

import datetime
import email.utils
import json

__all__ = ["Outcome", "interpret", "parse_retry_after", "request_for"]

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


def _reason(status, text):
    text = " ".join((text or "").split())
    if len(text) > REASON_CHARS:
        text = text[:REASON_CHARS] + "\u2026"
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
