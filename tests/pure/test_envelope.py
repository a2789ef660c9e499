import copy
import datetime
import json
import uuid

import pytest
from sync_base_lib import envelope as env_mod
from sync_base_lib.envelope import EnvelopeError


@pytest.fixture
def envelope():
    return env_mod.build(
        "contacts.partner",
        "upsert",
        "erp_main",
        ["shop_eu"],
        "res.partner",
        42,
        {"name": "Azure Interior"},
        created_at=datetime.datetime(2026, 1, 31, 8, 0, 0),
    )


def test_build_is_complete_and_valid(envelope):
    assert set(envelope) == set(env_mod.ENVELOPE_KEYS)
    assert uuid.UUID(envelope["id"]).version == 4
    assert envelope["version"] == 1
    assert envelope["created_at"] == "2026-01-31T08:00:00Z"
    assert envelope["record"] == {"model": "res.partner", "id": 42}
    assert env_mod.parse(env_mod.dumps(envelope)) == envelope


def test_dumps_is_canonical(envelope):
    shuffled = dict(reversed(list(envelope.items())))
    assert env_mod.dumps(shuffled) == env_mod.dumps(envelope)
    assert env_mod.fingerprint(shuffled) == env_mod.fingerprint(envelope)
    changed = copy.deepcopy(envelope)
    changed["payload"]["name"] = "Other"
    assert env_mod.fingerprint(changed) != env_mod.fingerprint(envelope)


def test_parse_accepts_bytes(envelope):
    assert env_mod.parse(json.dumps(envelope).encode()) == envelope


@pytest.mark.parametrize(
    "mutate, key, message",
    [
        (lambda e: e.pop("id"), "id", "is missing"),
        (lambda e: e.update(id="not-a-uuid"), "id", "is not a UUID"),
        (lambda e: e.update(operation="merge"), "operation", "unknown operation 'merge'"),
        (lambda e: e.update(targets="shop_eu"), "targets", "must be a list"),
        (lambda e: e.update(targets=["Shop EU"]), "targets", "is not a system code"),
        (lambda e: e.update(version=2), "version", "unknown version 2"),
        (lambda e: e.update(version="1"), "version", "must be an integer"),
        (lambda e: e.update(source=""), "source", "is not a system code"),
        (lambda e: e.update(record={"model": "res.partner"}), "record", "must be an object"),
        (lambda e: e.update(created_at="2026-01-31T08:00:00"), "created_at", "UTC"),
        (lambda e: e.update(payload=[1]), "payload", "must be a JSON object"),
        (lambda e: e.update(extra=1), "extra", "unknown key"),
        (lambda e: e.update(type="has space"), "type", "is not a message type"),
    ],
)
def test_validate_names_the_bad_key(envelope, mutate, key, message):
    mutate(envelope)
    with pytest.raises(EnvelopeError, match=message) as info:
        env_mod.validate(envelope)
    assert info.value.key == key
    assert repr(key) in str(info.value)


def test_parse_refuses_non_json_and_non_object():
    with pytest.raises(EnvelopeError, match="not valid JSON"):
        env_mod.parse("{")
    with pytest.raises(EnvelopeError, match="must be a JSON object"):
        env_mod.parse("[]")
    with pytest.raises(EnvelopeError, match="not UTF-8"):
        env_mod.parse(b"\xff\xfe")


def test_build_refuses_bad_operation():
    with pytest.raises(EnvelopeError) as info:
        env_mod.build("a.b", "remove", "src", [], "res.partner", 1, {})
    assert info.value.key == "operation"
