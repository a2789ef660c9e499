"""Where a change goes (sync_queue/lib/decisions.py), without Odoo."""

import pytest
from sync_queue_lib import decisions, states

S1, S2, S3 = 1, 2, 3
C1, C2 = 10, 20


def upsert(system, res_id, state, attempts=1, envelope=True):
    return (system, res_id, "upsert", state, attempts, envelope)


@pytest.mark.parametrize("state, attempts, envelope, holds", [
    ("pending", 0, False, False),  # never claimed: never left
    ("waiting", 0, False, False),
    ("sending", 1, False, True),  # claimed, its envelope being built: it may still go
    ("sending", 1, True, True),
    ("sent", 1, True, True),
    ("retry", 2, True, True),  # an earlier attempt may have been delivered
    ("retry", 1, False, True),  # recovered while being built: built again when claimed again
    ("done", 1, True, True),
    ("failed", 3, True, True),  # failed after attempts that may have been delivered
    ("cancelled", 2, True, True),
    ("failed", 1, False, False),  # the record was gone when its envelope was built: it never left
    ("cancelled", 0, False, False),
])
def test_which_upserts_say_the_system_may_hold_the_record(state, attempts, envelope, holds):
    assert state in dict(states.STATES)
    assert decisions.may_hold_record("upsert", state, attempts, envelope) is holds


def test_a_deletion_never_says_the_system_holds_the_record():
    assert not decisions.may_hold_record("delete", "done", 1, True)


def test_a_deletion_goes_only_where_the_record_went():
    systems = [(S1, C1), (S2, C2), (S3, None)]
    targets = decisions.deletion_targets(
        [7, 8, 9], systems,
        bindings=[(S1, 7)],
        messages=[upsert(S3, 8, "sent"), upsert(S2, 9, "pending", attempts=0, envelope=False)],
    )
    assert targets == {S1: [7], S3: [8]}


def test_nothing_sent_nothing_deleted():
    assert decisions.deletion_targets([7], [(S1, None), (S2, C2)], [], []) == {}


def test_an_upsert_in_flight_brings_its_deletion():
    targets = decisions.deletion_targets([7], [(S1, C1)], [], [upsert(S1, 7, "sending", envelope=False)])
    assert targets == {S1: [7]}


def test_an_upsert_to_another_system_is_not_evidence():
    targets = decisions.deletion_targets([7], [(S1, C1), (S2, C2)], [(S1, 7)], [upsert(S1, 7, "done")])
    assert targets == {S1: [7]}


def test_a_record_that_still_exists_goes_where_it_is_bound_whatever_its_company():
    # a record leaving the data type, now of company 2: also to the company-1 system that holds it (a binding
    # names the receiver's id: nothing else can be hit), or it would stay there for good
    systems = [(S1, C1), (S2, C2), (S3, None)]
    targets = decisions.deletion_targets([7, 8], systems, [(S1, 7), (S2, 7), (S3, 7), (S1, 8)], [],
                                         record_companies={7: C2, 8: None})
    assert targets == {S1: [7, 8], S2: [7], S3: [7]}
    # without a binding, an upsert that may have arrived counts only within the system's company
    maybe = [(S1, 7, "upsert", "sent", 1, True), (S2, 7, "upsert", "sent", 1, True)]
    assert decisions.deletion_targets([7], systems, [], maybe, record_companies={7: C2}) == {S2: [7]}


def test_order_of_the_records_is_kept():
    targets = decisions.deletion_targets([9, 3, 5], [(S1, None)], [(S1, 5), (S1, 9), (S1, 3)], [])
    assert targets == {S1: [9, 3, 5]}


def vals(system, res_id, operation="upsert", keys=False, name="Name"):
    return {"system_id": system, "res_id": res_id, "operation": operation, "reference_keys": keys,
            "record_name": name}


def test_a_record_without_an_unsent_message_gets_one():
    new = [vals(S1, 7), vals(S2, 7)]
    assert decisions.coalesce(new, {(S1, 8): (100, None, "x")}) == (new, [])


def test_a_new_parent_refreshes_the_unsent_message():
    existing = {(S1, 7): (100, [["res.partner", 3]], "Old Co, Ada")}
    insert, refresh = decisions.coalesce([vals(S1, 7, keys=[["res.partner", 4]], name="New Co, Ada")], existing)
    assert insert == []
    assert refresh == [(100, {"reference_keys": [["res.partner", 4]], "record_name": "New Co, Ada"})]


def test_a_removed_parent_clears_the_ordering():
    insert, refresh = decisions.coalesce([vals(S1, 7, keys=False, name="Ada")],
                                         {(S1, 7): (100, [["res.partner", 3]], "Ada")})
    assert (insert, refresh) == ([], [(100, {"reference_keys": False})])


def test_nothing_changed_nothing_refreshed():
    # the keys as JSON reads them back (lists) and as the model builds them, in another order
    existing = {(S1, 7): (100, [["res.partner", 4], ["res.country", 1]], "Ada")}
    assert decisions.coalesce([vals(S1, 7, keys=[("res.country", 1), ("res.partner", 4)], name="Ada")],
                              existing) == ([], [])


def test_a_deletion_coalesces_without_refreshing():
    existing = {(S1, 7): (100, None, "Ada")}
    assert decisions.coalesce([vals(S1, 7, operation="delete", name=False)], existing) == ([], [])


def test_a_record_s_last_change_supersedes_the_opposite_unsent_message():
    new = [{"system_id": 1, "res_id": 10, "operation": "upsert"}, {"system_id": 2, "res_id": 10,
                                                                    "operation": "upsert"}]
    opposite = {(1, 10): [7], (3, 10): [8]}
    # only where the new message goes: the deletion still owed to system 3 stays
    assert decisions.superseded(new, opposite) == [7]
    assert decisions.superseded([], opposite) == []


def test_a_bound_record_that_moved_to_another_company_is_still_deleted_where_it_is():
    systems = [(1, 1), (2, 2)]
    # bound on system 1 (company 1); the record has moved to company 2 and leaves the data type
    assert decisions.deletion_targets([10], systems, [(1, 10)], [], {10: 2}) == {1: [10]}
    # an upsert that may have arrived, without binding, counts only within the company
    messages = [(1, 10, "upsert", "failed", 1, True)]
    assert decisions.deletion_targets([10], systems, [], messages, {10: 2}) == {}
    assert decisions.deletion_targets([10], systems, [], messages, {10: 1}) == {1: [10]}


@pytest.mark.parametrize("status, moved, attempts, attempt_row, reply_row", [
    ("acknowledged", True, 1, False, False),  # on the message (done, acked_at, send_duration) and its binding
    ("acknowledged", True, 2, True, False),  # it went more than once: each delivery is in the log
    ("accepted", True, 1, True, False),  # out, its acknowledgement may never come: it may go again
    ("transient", True, 1, True, False),  # the retry history; no answer of the receiver
    ("permanent", True, 1, True, True),  # the refusal and its reason
    ("acknowledged", False, 1, True, True),  # a late answer: the trace that the envelope went twice
    ("accepted", False, 2, True, False),
    ("transient", False, 1, True, False),
    ("permanent", False, 1, True, True),
])
def test_what_a_transport_result_leaves_behind(status, moved, attempts, attempt_row, reply_row):
    assert decisions.keeps_attempt(status, moved, attempts) is attempt_row
    assert decisions.keeps_reply(status, moved) is reply_row


def test_an_acknowledgement_posted_later_is_no_attempt():
    assert decisions.keeps_attempt("acknowledged", True, 2, in_call=False) is False
    assert decisions.keeps_attempt("transient", True, 1, in_call=False) is True  # a posted error: the history
    assert decisions.keeps_attempt("acknowledged", False, 1, in_call=False) is True
