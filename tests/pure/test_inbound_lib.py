"""The inbound protocol's request checks (sync_queue/lib/inbound.py), without Odoo."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sync_queue_lib import inbound


def refused(call, *args, **kwargs):
    with pytest.raises(inbound.InboundError) as caught:
        call(*args, **kwargs)
    return caught.value.status, caught.value.code


@pytest.mark.parametrize("header, token", [
    ("Bearer abc", "abc"),
    ("bearer   abc  ", "abc"),
    ("Basic abc", None),
    ("Bearer", None),
    ("Bearer a b", None),
    ("", None),
    (None, None),
])
def test_bearer_token(header, token):
    assert inbound.bearer_token(header) == token


@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON; charset=utf-8",
                                          'application/json; charset="UTF-8"'])
def test_json_content_types_pass(content_type):
    inbound.check_content_type(content_type)


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/x-www-form-urlencoded",
                                          "application/json; charset=latin-1", "application/jsonp"])
def test_other_content_types_are_415(content_type):
    assert refused(inbound.check_content_type, content_type) == (415, "bad_content_type")


def test_parse_body_checks_size_then_json_then_depth():
    assert inbound.parse_body(b'{"a": [1, {"b": 2}]}') == {"a": [1, {"b": 2}]}
    assert refused(inbound.parse_body, b"x" * 11, max_bytes=10) == (413, "too_large")
    assert refused(inbound.parse_body, b'{"a": ') == (400, "malformed_json")
    assert refused(inbound.parse_body, "caf\xe9".encode("latin-1")) == (400, "malformed_json")
    assert refused(inbound.parse_body, b"") == (400, "malformed_json")
    assert inbound.parse_body(b"[" * 32 + b"]" * 32, max_depth=32) == json.loads("[" * 32 + "]" * 32)
    assert refused(inbound.parse_body, b"[" * 33 + b"]" * 33, max_depth=32) == (400, "too_deep")
    # deeper than Python's recursion limit: still a clean refusal
    assert refused(inbound.parse_body, b"[" * 100000 + b"]" * 100000, max_bytes=10**6) == (400, "too_deep")


@given(st.recursive(st.none() | st.integers(), lambda children: st.lists(children, max_size=3)
                    | st.dictionaries(st.text(max_size=3), children, max_size=3), max_leaves=30))
def test_depth_matches_a_recursive_definition(value):
    def depth(item):
        if isinstance(item, dict):
            return 1 + max(map(depth, item.values()), default=0)
        if isinstance(item, list):
            return 1 + max(map(depth, item), default=0)
        return 0
    assert inbound._depth(value, 1000) == depth(value)


def test_as_items():
    assert inbound.as_items({"id": 1}) == ([{"id": 1}], False)
    assert inbound.as_items([{"id": 1}, {"id": 2}], max_items=2) == ([{"id": 1}, {"id": 2}], True)
    assert refused(inbound.as_items, [{}, {}, {}], max_items=2) == (413, "too_many")
    assert refused(inbound.as_items, "text") == (400, "bad_body")
    assert refused(inbound.as_items, 3) == (400, "bad_body")


def test_ack_item():
    ack, problem = inbound.ack_item({"message_id": "m1", "status": "done", "remote_ref": 7})
    assert problem is None
    assert ack == {"message_id": "m1", "status": "done", "permanent": False, "reason": None, "remote_model": None,
                   "remote_ref": "7"}
    for item, word in [([], "object"), ({"status": "done"}, "message_id"), ({"message_id": "m", "status": "ok"},
                       "status"), ({"message_id": "m", "status": "done", "remote_ref": True}, "remote_ref"),
                       ({"message_id": "m", "status": "done", "remote_model": 3}, "remote_model")]:
        ack, problem = inbound.ack_item(item)
        assert ack is None and word in problem


def test_error_body_and_relay_sources():
    error = inbound.InboundError(503, "paused", "later", headers={"Retry-After": "300"})
    assert error.body() == {"error": {"code": "paused", "message": "later"}}
    assert error.headers == {"Retry-After": "300"}
    assert inbound.parse_relay_sources("shop_eu, shop_us\nshop-cn") == ["shop_eu", "shop_us", "shop-cn"]
    assert inbound.parse_relay_sources(False) == []


@pytest.mark.parametrize("raw", [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": 1e400}', b'{"a": "\\ud800"}',
                                 b'{"a": "nul\\u0000"}'])
def test_values_that_cannot_be_stored_are_malformed(raw):
    assert refused(inbound.parse_body, raw) == (400, "malformed_json")


def test_ack_permanent_must_be_a_boolean():
    ack, problem = inbound.ack_item({"message_id": "m", "status": "error", "permanent": "false"})
    assert ack is None and "permanent" in problem
    ack, _problem = inbound.ack_item({"message_id": "m", "status": "error", "permanent": True})
    assert ack["permanent"] is True
