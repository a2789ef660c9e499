"""The inbound HTTP protocol: what a request must be before anything is written.

Used by the controllers of ``/sync/<code>/messages``, ``/acks`` and
``/health``; nothing here imports odoo.  Every refusal of a request is an
:class:`InboundError` carrying its HTTP status and its public ``error.code``
(the JSON body ``{"error": {"code": ..., "message": ...}}``).
"""

import json

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_DEPTH",
    "InboundError",
    "ack_item",
    "as_items",
    "bearer_token",
    "check_content_type",
    "error_body",
    "parse_body",
    "parse_relay_sources",
]

DEFAULT_MAX_BYTES = 1024 * 1024
# deeper than any document the mappings produce (nested lines are a few levels)
MAX_DEPTH = 32


class InboundError(Exception):
    """A refused request: HTTP ``status``, public ``code``, a ``message`` for people, extra ``headers``."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def body(self):
        return error_body(self.code, self.message)


def error_body(code, message):
    """The JSON body of a refusal."""
    return {"error": {"code": code, "message": message}}


def bearer_token(authorization):
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization or not isinstance(authorization, str):
        return None
    scheme, _sep, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def check_content_type(content_type):
    """Refuse anything but ``application/json`` (parameters such as ``charset=utf-8`` allowed)."""
    mimetype = (content_type or "").split(";", 1)[0].strip().lower()
    if mimetype != "application/json":
        raise InboundError(415, "bad_content_type",
                           f"Content-Type must be application/json, got {content_type or 'nothing'!r}")
    charset = None
    for parameter in (content_type or "").split(";")[1:]:
        key, _sep, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if charset and charset not in ("utf-8", "utf8"):
        raise InboundError(415, "bad_content_type", f"the body must be UTF-8 JSON, not {charset}")


def _depth(value, limit):
    """Nesting depth of a decoded JSON value, stopping once past ``limit`` (iterative: no recursion)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return depth
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def parse_body(raw, max_bytes=DEFAULT_MAX_BYTES, max_depth=MAX_DEPTH):
    """Decode a request body: the size, then UTF-8 JSON, then the nesting depth."""
    if raw is None:
        raw = b""
    if len(raw) > max_bytes:
        raise InboundError(413, "too_large", f"the body has {len(raw)} bytes; this system may send {max_bytes}")
    try:
        text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
        value = json.loads(text)
    except RecursionError:
        raise InboundError(400, "too_deep", f"the body is nested deeper than {max_depth} levels") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InboundError(400, "malformed_json", f"the body is not valid UTF-8 JSON: {exc}") from None
    if _depth(value, max_depth) > max_depth:
        raise InboundError(400, "too_deep", f"the body is nested deeper than {max_depth} levels")
    try:
        # NaN, Infinity, numbers past a double, lone surrogates and NUL parse, but cannot be stored
        canonical = json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError) as exc:
        raise InboundError(400, "malformed_json", f"the body holds a value JSON cannot carry: {exc}") from None
    if b"\x00" in canonical or b"\\u0000" in canonical:
        raise InboundError(400, "malformed_json", "the body holds a NUL character")
    return value


def as_items(body, max_items=None):
    """``(items, is_batch)``: one object, or an array of at most ``max_items`` objects."""
    if isinstance(body, dict):
        return [body], False
    if not isinstance(body, list):
        raise InboundError(400, "bad_body", f"the body must be a JSON object or array, got {type(body).__name__}")
    if max_items is not None and len(body) > max_items:
        raise InboundError(413, "too_many", f"the body has {len(body)} items; this system may send {max_items} at once")
    return body, True


def ack_item(item):
    """Normalize one acknowledgement; return ``(ack, problem)``, ``problem`` saying what is wrong with it.

    ``{"message_id": str, "status": "done" | "error", "permanent": bool, "reason": str | None,
    "remote_model": str | None, "remote_ref": str | None}``
    """
    if not isinstance(item, dict):
        return None, f"an acknowledgement must be a JSON object, got {type(item).__name__}"
    message_id = item.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        return None, "'message_id' must be the id of a message"
    status = item.get("status")
    if status not in ("done", "error"):
        return None, f"'status' must be 'done' or 'error', got {status!r}"
    remote_ref = item.get("remote_ref")
    if isinstance(remote_ref, bool) or (remote_ref is not None and not isinstance(remote_ref, (str, int))):
        return None, "'remote_ref' must be a string or an integer"
    remote_model = item.get("remote_model")
    if remote_model is not None and not isinstance(remote_model, str):
        return None, "'remote_model' must be a string"
    permanent = item.get("permanent", False)
    if not isinstance(permanent, bool) and permanent is not None:
        return None, f"'permanent' must be true or false, got {permanent!r}"
    reason = item.get("reason")
    return {
        "message_id": message_id,
        "status": status,
        "permanent": bool(permanent),
        "reason": None if reason is None else str(reason),
        "remote_model": remote_model,
        "remote_ref": None if remote_ref is None else str(remote_ref),
    }, None


def parse_relay_sources(text):
    """The origin codes of a ``relay_sources`` setting: separated by commas, spaces or new lines."""
    return [code for code in (text or "").replace(",", " ").split() if code]
