"""What the queue's buttons do with each message, and how a bulk action counts (sync_queue/lib/actions.py)."""

import pytest
from sync_queue_lib import actions, states


@pytest.mark.parametrize("state, attempts, outcome", [
    ("pending", 0, actions.ACTED),  # never claimed: made due now
    ("waiting", 0, actions.ACTED),
    ("waiting", 2, actions.ACTED),  # held back after an attempt: sent again
    ("retry", 1, actions.ACTED),
    ("sent", 1, actions.ACTED),
    ("failed", 3, actions.ACTED),
    ("done", 1, actions.DONE),
    ("sending", 1, actions.SENDING),
    ("cancelled", 1, actions.CANCELLED),
])
def test_what_retry_does(state, attempts, outcome):
    assert state in dict(states.STATES)
    assert actions.retry_outcome(state, attempts) == outcome


@pytest.mark.parametrize("state, outcome", [
    ("pending", actions.ACTED), ("waiting", actions.ACTED), ("sent", actions.ACTED), ("retry", actions.ACTED),
    ("failed", actions.ACTED), ("done", actions.DONE), ("sending", actions.SENDING),
    ("cancelled", actions.CANCELLED),
])
def test_what_cancel_does(state, outcome):
    assert actions.cancel_outcome(state) == outcome


def test_every_state_has_an_outcome_for_every_button():
    for state, _label in states.STATES:
        assert actions.retry_outcome(state, 1) in (actions.ACTED, *actions.SKIP_REASONS)
        assert actions.cancel_outcome(state) in (actions.ACTED, *actions.SKIP_REASONS)


@pytest.mark.parametrize("operation, exists, matches, receives, reason", [
    ("upsert", False, False, True, actions.GONE),
    ("upsert", True, False, True, actions.LEFT),
    ("upsert", True, True, False, actions.NOT_RECEIVED),
    ("upsert", True, True, True, actions.ELSEWHERE),  # the system's company is not the record's
    ("delete", False, False, True, actions.ELSEWHERE),  # the system never got the record
    ("delete", False, False, False, actions.NOT_RECEIVED),
])
def test_why_requeue_queued_nothing(operation, exists, matches, receives, reason):
    assert actions.requeue_skip(operation, exists, matches, receives) == reason


def test_tally_counts_acted_and_each_reason_in_a_fixed_order():
    outcomes = [actions.SENDING, actions.ACTED, actions.DONE, actions.ACTED, actions.DONE]
    assert actions.tally(outcomes) == (2, [(actions.DONE, 2), (actions.SENDING, 1)])
    assert actions.tally([]) == (0, [])


@pytest.mark.parametrize("text, summary", [
    (None, False),
    ("", False),
    ("  \n ", False),
    ("refused", "refused"),
    ("\n  refused: bad email \nTraceback (most recent call last)", "refused: bad email"),
    ("x" * 80, "x" * 80),
    ("x" * 81, "x" * 79 + "\u2026"),
])
def test_error_summary_is_the_first_line_cut(text, summary):
    assert actions.error_summary(text) == summary


def test_content_failures_are_failure_kinds():
    assert set(states.CONTENT_FAILURES) <= {kind for kind, _label in states.FAILURE_KINDS}
