import base64
import datetime
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sync_base_lib.codec import CodecError, decode_value, encode_value, format_datetime, parse_datetime


def roundtrip(ftype, value):
    encoded = encode_value(ftype, value)
    # what travels is JSON text, so go through it
    return decode_value(ftype, json.loads(json.dumps(encoded)))


@given(st.booleans())
def test_boolean_roundtrip(value):
    assert roundtrip("boolean", value) is value


@given(st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1))
def test_integer_roundtrip(value):
    assert roundtrip("integer", value) == value


@pytest.mark.parametrize("ftype", ["float", "monetary"])
@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_float_roundtrip(ftype, value):
    assert roundtrip(ftype, value) == value


@pytest.mark.parametrize("ftype", ["char", "text", "html", "selection"])
@given(value=st.text(min_size=1))
def test_string_roundtrip(ftype, value):
    assert roundtrip(ftype, value) == value


@given(st.dates())
def test_date_roundtrip(value):
    assert encode_value("date", value) == value.isoformat()
    assert roundtrip("date", value) == value


@given(st.datetimes(min_value=datetime.datetime(1900, 1, 1)))
def test_datetime_roundtrip(value):
    encoded = encode_value("datetime", value)
    assert encoded.endswith("Z")
    assert roundtrip("datetime", value) == value


@given(st.binary())
def test_binary_roundtrip(raw):
    odoo_value = base64.b64encode(raw)  # what Odoo hands out for a binary field
    encoded = encode_value("binary", odoo_value)
    assert isinstance(encoded, str)
    assert base64.b64decode(roundtrip("binary", odoo_value)) == raw


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
)


@given(JSON_VALUES)
def test_json_roundtrip(value):
    expected = False if value is None else value
    assert roundtrip("json", value) == expected


@pytest.mark.parametrize(
    "ftype", ["integer", "float", "monetary", "char", "text", "html", "selection", "date", "datetime", "binary"]
)
def test_false_is_null_for_non_boolean(ftype):
    assert encode_value(ftype, False) is None
    assert decode_value(ftype, None) is False


def test_false_boolean_stays_false():
    assert encode_value("boolean", False) is False
    assert decode_value("boolean", False) is False


def test_aware_datetime_is_converted_to_utc():
    paris = datetime.timezone(datetime.timedelta(hours=2))
    value = datetime.datetime(2024, 6, 1, 14, 30, tzinfo=paris)
    assert format_datetime(value) == "2024-06-01T12:30:00Z"
    assert parse_datetime("2024-06-01T14:30:00+02:00") == datetime.datetime(2024, 6, 1, 12, 30)
    assert parse_datetime("2024-06-01 12:30:00") == datetime.datetime(2024, 6, 1, 12, 30)


@pytest.mark.parametrize(
    "ftype, value, message",
    [
        ("integer", "12", "expected an integer"),
        ("integer", True, "expected an integer"),
        ("float", "1.5", "expected a number"),
        ("date", "31/12/2024", "is not an ISO 8601 date"),
        ("datetime", "yesterday", "is not an ISO 8601 datetime"),
        ("binary", "not base64!", "not valid base64"),
        ("char", 12, "expected a string"),
        ("boolean", "yes", "expected true or false"),
    ],
)
def test_decode_refuses_bad_values_clearly(ftype, value, message):
    with pytest.raises(CodecError, match=message):
        decode_value(ftype, value)


def test_encode_refuses_non_finite_and_unknown_types():
    with pytest.raises(CodecError, match="not a finite number"):
        encode_value("float", float("nan"))
    with pytest.raises(CodecError, match="not handled by the codec"):
        encode_value("many2one", 3)
    with pytest.raises(CodecError, match="too large"):
        encode_value("integer", 2**60)
