import pytest
from sync_base_lib import tokens
from sync_base_lib.results import TransportResult, check_results
from sync_base_lib.retry import RetryDelaysError, next_delay, parse_retry_delays


def test_results_constructors():
    ack = TransportResult.acknowledged("res.partner", 7)
    assert ack.status == "acknowledged" and ack.remote_ref == "7" and ack.ok
    assert TransportResult.accepted().ok
    transient = TransportResult.transient("busy", retry_after=30)
    assert transient.retry_after == 30 and not transient.ok
    assert TransportResult.permanent("bad").reason == "bad"


def test_results_refuse_inconsistencies():
    with pytest.raises(ValueError, match="needs a reason"):
        TransportResult.transient("")
    with pytest.raises(ValueError, match="unknown transport result status"):
        TransportResult("maybe")
    with pytest.raises(ValueError, match="retry_after"):
        TransportResult("permanent", reason="x", retry_after=3)


def test_check_results():
    results = [TransportResult.accepted()] * 2
    assert check_results(iter(results), 2) == results
    with pytest.raises(TypeError, match="returned 1 results for 2 envelopes"):
        check_results(results[:1], 2, "wso2")
    with pytest.raises(TypeError, match="instead of a TransportResult at position 1"):
        check_results([results[0], {"status": "ok"}], 2)


def test_tokens_are_random_hashed_and_verified():
    token = tokens.generate()
    other = tokens.generate()
    assert token != other
    prefix = tokens.split_prefix(token)
    assert prefix and len(prefix) == tokens.PREFIX_LENGTH and token.startswith(prefix + ".")
    stored = tokens.hash_token(token)
    assert token not in stored
    assert tokens.verify(token, stored)
    assert not tokens.verify(other, stored)
    assert not tokens.verify(token, None)


@pytest.mark.parametrize("bad", [None, "", "short", "nodot" * 3, "abcdefgh.", "x" * 300, 12])
def test_split_prefix_refuses_foreign_tokens(bad):
    assert tokens.split_prefix(bad) is None


def test_retry_delays():
    assert parse_retry_delays("60, 300,900") == [60, 300, 900]
    assert [next_delay([60, 300], n) for n in (1, 2, 3, 9)] == [60, 300, 300, 300]
    for bad, message in [("", "empty"), ("60,,300", "#2"), ("60,abc", "#2 \\('abc'\\)"), ("0", "at least 1"),
                         ("-5", "#1"), ("1.5", "#1")]:
        with pytest.raises(RetryDelaysError, match=message):
            parse_retry_delays(bad)
