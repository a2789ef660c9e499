"""Reconciliation's decisions without Odoo: sync_queue/lib/compare.py and the plain mode's conversions."""

import pytest
from sync_queue_lib import compare
from sync_transport_rpc_lib import plain_compare
from sync_transport_rpc_lib.plain import _Resolver


def test_the_digest_is_of_the_canonical_json_whatever_the_key_order():
    assert compare.digest({"b": 1, "a": [1, {"y": 2, "x": "é"}]}) == compare.digest({"a": [1, {"x": "é", "y": 2}],
                                                                                       "b": 1})
    assert compare.digest({"a": 1}) != compare.digest({"a": 1.5})
    assert len(compare.digest({})) == 64


def test_diff_names_each_property_with_both_values():
    here = {"name": "Ann", "email": "a@x", "address": {"city": "Gent", "zip": "9000"}, "tags": [1, 2], "n": None}
    there = {"name": "Ann", "email": "b@x", "address": {"city": "Gent", "zip": "9050"}, "tags": [1, 3, 4]}
    assert compare.diff(here, there) == [
        {"property": "address.zip", "here": "9000", "there": "9050"},
        {"property": "email", "here": "a@x", "there": "b@x"},
        {"property": "tags", "here": [1, 2], "there": [1, 3, 4]},
    ]
    assert compare.diff({"lines": [{"q": 1}, {"q": 2}]}, {"lines": [{"q": 1}, {"q": 3}]}) == [
        {"property": "lines[1].q", "here": 2, "there": 3}]
    assert compare.diff(here, here) == []


def test_diff_is_bounded():
    many = compare.diff({f"p{i}": i for i in range(200)}, {f"p{i}": -i for i in range(1, 201)})
    assert len(many) == compare.MAX_DIFFERENCES
    long = compare.diff({"text": "x" * 5000}, {"text": "y"})
    assert len(long[0]["here"]) == compare.MAX_VALUE_CHARS + 1 and long[0]["here"].endswith("\u2026")


@pytest.mark.parametrize("in_scope, exists, differences, last_state, outcome", [
    (True, True, [], None, "in_step"),
    (True, True, [], "failed", "in_step"),  # in step whatever its queue says
    (True, True, [{"property": "x"}], None, "differs"),
    (True, True, [{"property": "x"}], "done", "differs"),
    (True, True, [{"property": "x"}], "pending", "not_sent"),
    (True, True, [{"property": "x"}], "cancelled", "not_sent"),
    (True, False, None, None, "missing"),
    (True, False, None, "done", "missing"),  # deleted there after it arrived
    (True, False, None, "retry", "not_sent"),
    (False, True, None, None, "only_there"),
    (False, True, None, "done", "only_there"),
    (False, True, None, "pending", "not_sent"),  # its deletion is on its way
    (False, False, None, None, None),
])
def test_classify(in_scope, exists, differences, last_state, outcome):
    assert compare.classify(in_scope, exists, differences, last_state) == outcome
    assert outcome is None or outcome in dict(compare.OUTCOMES)


def test_classify_an_error_first():
    assert compare.classify(True, True, [], None, error="mapping broken") == "error"


@pytest.mark.parametrize("body, message", [
    ([], "JSON object"),
    ({"model": "res.partner", "ids": [1]}, "'type'"),
    ({"type": "t", "ids": [1]}, "'model'"),
    ({"type": "t", "model": "m", "ids": [1, "2"]}, "'ids'"),
    ({"type": "t", "model": "m", "ids": [True]}, "'ids'"),
    ({"type": "t", "model": "m", "ids": [0]}, "'ids'"),
    ({"type": "t", "model": "m", "ids": list(range(1, 2600))}, "at most 2500"),
    ({"type": "t", "model": "m", "ids": [1], "properties": "name"}, "'properties'"),
    ({"type": "t", "model": "m", "after": -1}, "'after'"),
    ({"type": "t", "model": "m", "after": 0, "limit": 0}, "'limit'"),
    ({"type": "t", "model": "m", "after": 0, "limit": 10**6}, "'limit'"),
    ({"type": "t", "model": "m", "ids": [1], "source": ""}, "'source'"),
])
def test_a_malformed_request_is_refused_naming_the_key(body, message):
    with pytest.raises(compare.CompareProtocolError, match=message):
        compare.parse_digest_request(body)


def test_requests_parsed():
    assert compare.parse_digest_request({"type": "t", "model": "m", "ids": [3, 1], "properties": ["a"]}) == (
        "t", "m", [3, 1], ["a"], None, None)
    assert compare.parse_digest_request({"type": "t", "model": "m", "source": "shop_eu"}) == (
        "t", "m", None, None, (0, 2500), "shop_eu")


class Receiver:
    """The receiving side of the protocol as plain data: what it holds, and the requests it got."""

    def __init__(self, held, properties):
        self.held = held
        self.properties = properties
        self.requests = []

    def post(self, route, body):
        self.requests.append((route, body))
        common = sorted(set(body["properties"]) & self.properties)
        rows = []
        for record_id in body["ids"]:
            document = self.held.get(record_id)
            if document is None:
                rows.append({"id": record_id, "digest": None})
                continue
            document = compare.restrict(document, set(common))
            key = "document" if route == "documents" else "digest"
            rows.append({"id": record_id, "remote_ref": f"r{record_id}",
                         key: document if route == "documents" else compare.digest(document)})
        return {"properties": common, "records": rows}


def test_compare_by_digest_fetches_documents_only_for_those_that_differ():
    receiver = Receiver({1: {"name": "A", "extra": 1}, 2: {"name": "B"}, 4: {"name": "D"}}, {"name", "extra"})
    results = compare.compare_by_digest(receiver.post, "t", "m", {
        1: {"name": "A", "only_here": True}, 2: {"name": "b"}, 3: {"name": "C"}, 4: None})
    assert results == {
        1: (True, "r1", []),
        2: (True, "r2", [{"property": "name", "here": "b", "there": "B"}]),
        3: (False, None, None),
        4: (True, "r4", []),
    }
    assert [route for route, _body in receiver.requests] == ["digest", "documents"]
    assert receiver.requests[1][1]["ids"] == [2]


def test_compare_by_digest_refuses_an_answer_out_of_protocol():
    with pytest.raises(compare.CompareProtocolError, match="'records'"):
        compare.compare_by_digest(lambda route, body: {"records": "nope"}, "t", "m", {1: {"a": 1}})
    with pytest.raises(compare.CompareProtocolError, match="'next'"):
        compare.holdings_page({"records": [], "next": "2"})


def test_a_counterpart_there_that_does_not_build_is_not_comparable():
    def post(route, body):
        return {"properties": ["a"], "records": [{"id": 1, "remote_ref": "9", "digest": None, "error": "broken"}]}

    assert compare.compare_by_digest(post, "t", "m", {1: {"a": 1}}) == {1: (None, "9", "broken")}


FIELDS = {
    "name": {"type": "char"}, "active": {"type": "boolean"}, "credit": {"type": "float"},
    "birthday": {"type": "date"}, "seen": {"type": "datetime"}, "parent_id": {"type": "many2one",
                                                                            "relation": "res.partner"},
    "tag_ids": {"type": "many2many", "relation": "res.partner.category"}, "lines": {"type": "one2many"},
    "email": {"type": "char"},
}


def test_plain_values_compare_after_the_conversions_load_applies():
    resolver = _Resolver(None)  # binding references only: no remote call
    document = {"name": "Ann", "active": True, "credit": 10, "birthday": "1990-01-02",
                "seen": "2026-01-31T08:00:00Z", "parent_id": {"$ref": "7"}, "tag_ids": [{"$ref": "3"}, {"$ref": "2"}],
                "lines": [{"x": 1}], "email": None}
    remote = {"id": 5, "name": "Ann", "active": True, "credit": 10.0, "birthday": "1990-01-02",
              "seen": "2026-01-31 08:00:00", "parent_id": [7, "Acme"], "tag_ids": [2, 3], "email": False}
    assert plain_compare._differences(document, remote, FIELDS, resolver) == []
    changed = dict(remote, active=False, credit=10.5, parent_id=[8, "Other"], email="x@y", tag_ids=[2])
    assert plain_compare._differences(document, changed, FIELDS, resolver) == [
        {"property": "active", "here": True, "there": False},
        {"property": "credit", "here": 10, "there": 10.5},
        {"property": "email", "here": None, "there": "x@y"},
        {"property": "parent_id", "here": {"$ref": "7"}, "there": {"id": 8, "name": "Other"}},
        {"property": "tag_ids", "here": [{"$ref": "3"}, {"$ref": "2"}], "there": [2]},
    ]
    assert plain_compare._differences({"nope": 1}, remote, FIELDS, resolver) == [
        {"property": "nope", "here": 1, "there": "(no such field there)"}]
