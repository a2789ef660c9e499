"""The broker protocol (sync_transport_wso2/lib/broker.py), without Odoo; against the test broker in the Odoo tier."""

import datetime
import json

import pytest
from sync_transport_wso2_lib import broker
from sync_transport_wso2_lib.client import BrokerClient, Credentials

NOW = datetime.datetime(2026, 11, 23, 8, 0, 0, tzinfo=datetime.timezone.utc)


def envelope(index, **values):
    return {"id": f"id-{index}", "type": "contacts.partner", "operation": "upsert", "source": "erp",
            "targets": ["shop_eu"], "record": {"model": "res.partner", "id": index}, "payload": {}, **values}


def test_one_envelope_travels_with_its_routing_headers():
    headers, body = broker.request_for([envelope(1, targets=["a", "b"])], batched=False, extra_headers={"apikey": "k"})
    assert headers["X-Sync-Source"] == "erp"
    assert headers["X-Sync-Targets"] == "a,b"
    assert headers["X-Sync-Type"] == "contacts.partner"
    assert headers["X-Sync-Operation"] == "upsert"
    assert headers["X-Sync-Message-Id"] == "id-1"
    assert headers["apikey"] == "k"
    assert json.loads(body) == envelope(1, targets=["a", "b"])


def test_a_batch_is_an_array_with_the_union_of_targets():
    envelopes = [envelope(1), envelope(2, targets=["shop_us", "shop_eu"], type="other")]
    headers, body = broker.request_for(envelopes, batched=True)
    assert json.loads(body) == envelopes
    assert headers["X-Sync-Targets"] == "shop_eu,shop_us"
    assert headers["X-Sync-Batch-Size"] == "2"
    assert "X-Sync-Type" not in headers and "X-Sync-Message-Id" not in headers


def test_one_envelope_per_request_refuses_a_batch():
    with pytest.raises(ValueError):
        broker.request_for([envelope(1), envelope(2)], batched=False)
    with pytest.raises(ValueError):
        broker.request_for([], batched=True)


@pytest.mark.parametrize("value, expected", [
    ("120", 120.0), ("Mon, 23 Nov 2026 08:01:00 GMT", 60.0), ("Mon, 23 Nov 2026 07:00:00 GMT", 0.0),
    ("soon", None), (None, None),
])
def test_retry_after(value, expected):
    assert broker.parse_retry_after(value, now=NOW) == expected


def test_statuses():
    envelopes = [envelope(1), envelope(2)]
    assert {o.status for o in broker.interpret(200, {}, "", envelopes)} == {"acknowledged"}
    assert {o.status for o in broker.interpret(200, {}, "", envelopes, ack_mode="async")} == {"accepted"}
    assert {o.status for o in broker.interpret(202, {}, "", envelopes)} == {"accepted"}
    for status in (408, 429, 500, 503):
        assert {o.status for o in broker.interpret(status, {}, "x", envelopes)} == {"transient"}
    refused = broker.interpret(422, {}, "bad " * 200, envelopes)
    assert refused[0].status == "permanent" and refused[0].reason.startswith("HTTP 422: bad bad")
    assert len(refused[0].reason) < broker.REASON_CHARS + 20
    late = broker.interpret(503, {"Retry-After": "30"}, "", envelopes)
    assert late[0].retry_after == 30.0
    with pytest.raises(ValueError):
        broker.interpret(200, {}, "", envelopes, ack_mode="later")


def test_a_body_answers_per_message():
    envelopes = [envelope(1), envelope(2), envelope(3), envelope(4)]
    body = json.dumps({"results": [
        {"message_id": "id-1", "status": "done", "remote_model": "shop.customer", "remote_ref": 77},
        {"message_id": "id-2", "status": "error", "permanent": True, "reason": "unknown SKU"},
        {"message_id": "id-3", "status": "error", "reason": "locked"},
    ]})
    outcomes = broker.interpret(200, {}, body, envelopes)
    assert [o.status for o in outcomes] == ["acknowledged", "permanent", "transient", "acknowledged"]
    assert (outcomes[0].remote_model, outcomes[0].remote_ref) == ("shop.customer", "77")
    assert outcomes[1].reason == "unknown SKU"
    assert broker.interpret(200, {}, "not json", envelopes[:1])[0].status == "acknowledged"


def test_an_answer_without_an_id_answers_for_the_whole_request():
    one = [envelope(1)]
    refused = broker.interpret(200, {}, json.dumps({"status": "error", "permanent": True, "reason": "no SKU"}), one)
    assert (refused[0].status, refused[0].reason) == ("permanent", "no SKU")
    assert broker.interpret(200, {}, json.dumps({"status": "error"}), one)[0].status == "transient"
    done = broker.interpret(200, {}, json.dumps({"status": "done", "remote_ref": 5}), one)[0]
    assert (done.status, done.remote_ref) == ("acknowledged", "5")
    two = [envelope(1), envelope(2)]
    assert {o.status for o in broker.interpret(200, {}, json.dumps({"status": "error"}), two)} == {"transient"}
    # a body that is not an answer changes nothing
    assert {o.status for o in broker.interpret(200, {}, json.dumps({"ok": True}), two)} == {"acknowledged"}


def test_client_configuration_is_checked_and_secrets_stay_out_of_repr():
    with pytest.raises(ValueError):
        BrokerClient("http://broker", timeout=0)
    with pytest.raises(ValueError):
        BrokerClient("ftp://broker", timeout=5)
    with pytest.raises(ValueError):
        Credentials("kerberos")
    credentials = Credentials("oauth2", token_url="http://t", client_id="c", client_secret="s3cret")
    assert credentials.missing() == []
    assert Credentials("basic", username="u").missing() == ["password"]
    client = BrokerClient("http://broker", timeout=5, credentials=credentials)
    assert "s3cret" not in repr(client) and "s3cret" not in repr(credentials)
