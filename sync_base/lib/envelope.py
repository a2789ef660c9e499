"""The envelope: the public wire format of every message of the suite.

An envelope is a JSON object::

    {
        "id": "0b7c0f3e-6a0c-4c89-9d0c-6d1f7e2f3a41",   # UUID4, the message id
        "type": "contacts.partner",                    # <library>.<schema>
        "operation": "upsert",                         # or "delete"
        "source": "shop_eu",                           # origin database code
        "targets": ["erp_main"],                       # codes to deliver to
        "record": {"model": "res.partner", "id": 42},  # the record at the origin
        "created_at": "2026-01-31T08:00:00Z",          # ISO 8601 UTC
        "version": 1,
        "payload": {...}                               # the document
    }

Once built an envelope never changes: every resend of a message carries the
same bytes (see :func:`dumps`), so a receiver deduplicates by ``id`` and can
tell a replay from a conflicting message by :func:`fingerprint`.
"""

import datetime
import hashlib
import json
import re
import uuid

from .codec import CodecError, format_datetime, parse_datetime

__all__ = [
    "BINDING_REF",
    "ENVELOPE_KEYS",
    "OPERATIONS",
    "SUPPORTED_VERSIONS",
    "VERSION",
    "EnvelopeError",
    "build",
    "dumps",
    "fingerprint",
    "parse",
    "validate",
]

VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})
OPERATIONS = ("upsert", "delete")
#: the key of a reference to the receiver's own record: ``{"$ref": "<its id there>"}``, what a binding says.
#: No document property may be called so (mapping lines refuse names that start with "$"), so it never reads
#: as a property: ``{"ref": "12"}`` is always a record whose property ``ref`` is "12".
BINDING_REF = "$ref"
ENVELOPE_KEYS = (
    "id",
    "type",
    "operation",
    "source",
    "targets",
    "record",
    "created_at",
    "version",
    "payload",
)
CODE_RE = re.compile(r"^[a-z0-9_-]+$")
TYPE_RE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
#: a UUID in canonical form (8-4-4-4-12 hex digits), in either case
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class EnvelopeError(ValueError):
    """An envelope is malformed; ``key`` names the offending key (or ``None``)."""

    def __init__(self, key, message):
        self.key = key
        super().__init__(f"envelope key {key!r}: {message}" if key else f"envelope: {message}")


def _check_code(key, value):
    if not isinstance(value, str) or not CODE_RE.match(value):
        raise EnvelopeError(
            key,
            f"{value!r} is not a system code (lowercase letters, digits, '_' and '-')",
        )


def _check_version(version):
    if isinstance(version, bool) or not isinstance(version, int):
        raise EnvelopeError("version", f"must be an integer, got {version!r}")
    if version not in SUPPORTED_VERSIONS:
        supported = ", ".join(map(str, sorted(SUPPORTED_VERSIONS)))
        raise EnvelopeError("version", f"unknown version {version} (supported: {supported})")


def _check_id(message_id):
    if not isinstance(message_id, str):
        raise EnvelopeError("id", f"must be a UUID string, got {type(message_id).__name__}")
    if not UUID_RE.fullmatch(message_id):
        # what every envelope carries passes the pattern: the parse only tells the two errors apart
        _parse_id(message_id)


def _parse_id(message_id):
    """Raise the :class:`EnvelopeError` of the text ``message_id`` that is no UUID in canonical form (in either
    case); return when it is one.  The reference the quick pattern of :func:`_check_id` agrees with."""
    try:
        parsed = uuid.UUID(message_id)
    except ValueError:
        raise EnvelopeError("id", f"{message_id!r} is not a UUID") from None
    if str(parsed) != message_id.lower():
        raise EnvelopeError("id", f"{message_id!r} is not in canonical UUID form")


def _check_targets(targets):
    if not isinstance(targets, list):
        raise EnvelopeError("targets", f"must be a list of system codes, got {type(targets).__name__}")
    for target in targets:
        _check_code("targets", target)


def _check_record(record):
    if not isinstance(record, dict) or set(record) != {"model", "id"}:
        raise EnvelopeError("record", 'must be an object {"model": ..., "id": ...}')
    if not isinstance(record["model"], str) or not record["model"]:
        raise EnvelopeError("record", "'model' must be a non-empty string")
    rid = record["id"]
    if isinstance(rid, bool) or not isinstance(rid, (int, str)) or rid in ("", 0):
        raise EnvelopeError("record", "'id' must be a non-empty string or a positive integer")


def _check_created_at(created_at):
    if not isinstance(created_at, str) or not created_at.endswith(("Z", "+00:00")):
        raise EnvelopeError("created_at", f"{created_at!r} is not an ISO 8601 UTC datetime")
    try:
        parse_datetime(created_at)
    except CodecError as exc:
        raise EnvelopeError("created_at", str(exc)) from None


def validate(envelope):
    """Check ``envelope`` (a dict) and return it unchanged, or raise :class:`EnvelopeError`."""
    if not isinstance(envelope, dict):
        raise EnvelopeError(None, f"must be a JSON object, got {type(envelope).__name__}")
    unknown = sorted(set(envelope) - set(ENVELOPE_KEYS))
    if unknown:
        raise EnvelopeError(unknown[0], "unknown key")
    for key in ENVELOPE_KEYS:
        if key not in envelope:
            raise EnvelopeError(key, "is missing")
    # The version decides how the rest is read, so it is checked first.
    _check_version(envelope["version"])
    _check_id(envelope["id"])
    mtype = envelope["type"]
    if not isinstance(mtype, str) or not TYPE_RE.match(mtype):
        raise EnvelopeError("type", f"{mtype!r} is not a message type such as 'library.schema'")
    if envelope["operation"] not in OPERATIONS:
        raise EnvelopeError(
            "operation",
            f"unknown operation {envelope['operation']!r} (expected one of {', '.join(OPERATIONS)})",
        )
    _check_code("source", envelope["source"])
    _check_targets(envelope["targets"])
    _check_record(envelope["record"])
    _check_created_at(envelope["created_at"])
    if not isinstance(envelope["payload"], dict):
        raise EnvelopeError("payload", f"must be a JSON object, got {type(envelope['payload']).__name__}")
    return envelope


def build(
    message_type,
    operation,
    source,
    targets,
    record_model,
    record_id,
    payload,
    message_id=None,
    created_at=None,
):
    """Build and validate a new envelope.

    ``message_id`` defaults to a fresh UUID4 and ``created_at`` (a datetime,
    naive UTC or aware) to now.
    """
    if created_at is None:
        created_at = datetime.datetime.now(datetime.timezone.utc)
    envelope = {
        "id": message_id or str(uuid.uuid4()),
        "type": message_type,
        "operation": operation,
        "source": source,
        "targets": list(targets) if isinstance(targets, (list, tuple)) else targets,
        "record": {"model": record_model, "id": record_id},
        "created_at": format_datetime(created_at) if isinstance(created_at, datetime.datetime) else created_at,
        "version": VERSION,
        "payload": payload,
    }
    return validate(envelope)


def dumps(envelope):
    """Serialize an envelope canonically (sorted keys, compact): the frozen bytes sent on every try."""
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def fingerprint(envelope):
    """SHA-256 of the canonical form: equal for a replay, different for a conflicting body."""
    return hashlib.sha256(dumps(envelope).encode("utf-8")).hexdigest()


def parse(data):
    """Parse ``data`` (str, bytes or an already decoded dict) and validate it."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise EnvelopeError(None, "is not UTF-8 text") from None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise EnvelopeError(None, f"is not valid JSON ({exc})") from None
    return validate(data)
