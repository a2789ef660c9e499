"""JSON codec for Odoo field values.

Odoo represents "no value" as ``False`` for every field type, dates and
datetimes as naive ``date``/``datetime`` objects in UTC, and binary fields as
base64.  On the wire the suite uses plain JSON:

==================  ==========================  =============================
field type          Odoo value                  JSON value
==================  ==========================  =============================
boolean             ``True``/``False``          ``true``/``false``
integer             ``int``                     number
float, monetary     ``float``                   number (finite only)
char, text, html,   ``str``                     string
selection
date                ``datetime.date``           ``"2024-02-29"``
datetime            naive UTC ``datetime``      ``"2024-02-29T13:05:00Z"``
binary              base64 ``bytes``/``str``    base64 string
json                any JSON value              the same value
==================  ==========================  =============================

``False`` (or ``None``) of any non-boolean field is encoded as ``null``, and
``null`` decodes back to ``False``.  Every function raises :class:`CodecError`
with a message that says what is wrong.
"""

import base64
import binascii
import datetime
import math

__all__ = [
    "SUPPORTED_TYPES",
    "CodecError",
    "decode_value",
    "encode_value",
    "format_datetime",
    "parse_datetime",
]

SUPPORTED_TYPES = frozenset(
    {
        "boolean",
        "integer",
        "float",
        "monetary",
        "char",
        "text",
        "html",
        "selection",
        "date",
        "datetime",
        "binary",
        "json",
    }
)
_STRING_TYPES = frozenset({"char", "text", "html", "selection"})
# JavaScript consumers lose precision past 2**53; refuse rather than corrupt.
_MAX_SAFE_INTEGER = 2**53 - 1


class CodecError(ValueError):
    """A value cannot be encoded to, or decoded from, JSON."""


def format_datetime(value):
    """Return an ISO 8601 UTC string (``...Z``) for a naive-UTC or aware datetime."""
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return text + "Z"


def parse_datetime(text):
    """Parse an ISO 8601 string to a naive UTC datetime.

    Accepts ``Z`` or a numeric offset (converted to UTC) and Odoo's own
    ``YYYY-MM-DD HH:MM:SS`` (taken as UTC).  A datetime without any offset in
    ``T`` form is taken as UTC too, which is what Odoo stores.
    """
    if not isinstance(text, str):
        raise CodecError(f"expected an ISO 8601 datetime string, got {type(text).__name__}")
    candidate = text.strip()
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        value = datetime.datetime.fromisoformat(candidate)
    except ValueError:
        raise CodecError(f"{text!r} is not an ISO 8601 datetime") from None
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


def _parse_date(text):
    if not isinstance(text, str):
        raise CodecError(f"expected an ISO 8601 date string, got {type(text).__name__}")
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        raise CodecError(f"{text!r} is not an ISO 8601 date (YYYY-MM-DD)") from None


def _check_type(ftype):
    if ftype not in SUPPORTED_TYPES:
        raise CodecError(
            f"field type {ftype!r} is not handled by the codec "
            f"(supported: {', '.join(sorted(SUPPORTED_TYPES))})"
        )


def _encode_integer(value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise CodecError(f"integer field holds {value!r}")
    if abs(value) > _MAX_SAFE_INTEGER:
        raise CodecError(f"integer {value} is too large for JSON consumers")
    return value


def _encode_number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CodecError(f"number field holds {value!r}")
    if not math.isfinite(value):
        raise CodecError(f"number {value!r} is not a finite number")
    return float(value)


def _encode_string(value):
    return value if isinstance(value, str) else str(value)


def _encode_date(value):
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, str):
        value = _parse_date(value)
    if not isinstance(value, datetime.date):
        raise CodecError(f"date field holds {value!r}")
    return value.isoformat()


def _encode_datetime(value):
    if isinstance(value, str):
        value = parse_datetime(value)
    if not isinstance(value, datetime.datetime):
        raise CodecError(f"datetime field holds {value!r}")
    return format_datetime(value)


def _encode_binary(value):
    # Odoo hands out base64-encoded bytes (or str) for binary fields.
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        try:
            return value.decode("ascii")
        except UnicodeDecodeError:
            raise CodecError("binary field holds bytes that are not base64") from None
    if isinstance(value, str):
        return value
    raise CodecError(f"binary field holds {type(value).__name__}")


def _decode_integer(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise CodecError(f"expected an integer, got {value!r}")
    return value


def _decode_number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CodecError(f"expected a number, got {value!r}")
    if not math.isfinite(value):
        raise CodecError(f"expected a finite number, got {value!r}")
    return float(value)


def _decode_string(value):
    if not isinstance(value, str):
        raise CodecError(f"expected a string, got {value!r}")
    return value


def _decode_binary(value):
    if not isinstance(value, str):
        raise CodecError(f"expected a base64 string, got {type(value).__name__}")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise CodecError("binary value is not valid base64") from None
    return value.encode("ascii")


_ENCODERS = {
    "integer": _encode_integer,
    "float": _encode_number,
    "monetary": _encode_number,
    "date": _encode_date,
    "datetime": _encode_datetime,
    "binary": _encode_binary,
    **dict.fromkeys(_STRING_TYPES, _encode_string),
}
_DECODERS = {
    "integer": _decode_integer,
    "float": _decode_number,
    "monetary": _decode_number,
    "date": _parse_date,
    "datetime": parse_datetime,
    "binary": _decode_binary,
    **dict.fromkeys(_STRING_TYPES, _decode_string),
}


def encode_value(ftype, value):
    """Encode one Odoo value of a field of type ``ftype`` to a JSON-ready value."""
    _check_type(ftype)
    if ftype == "boolean":
        return bool(value)
    if value is False or value is None:
        return None
    if ftype == "json":
        return value
    return _ENCODERS[ftype](value)


def decode_value(ftype, value):
    """Decode a JSON value to what Odoo expects to write into a field of type ``ftype``."""
    _check_type(ftype)
    if ftype == "boolean":
        if value is None:
            return False
        if not isinstance(value, bool):
            raise CodecError(f"expected true or false, got {value!r}")
        return value
    if value is None:
        return False
    if ftype == "json":
        return value
    return _DECODERS[ftype](value)
