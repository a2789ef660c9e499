"""The claim's decisions (sync_queue/lib/claim.py) and the queue's vocabulary (sync_queue/lib/states.py)."""

from sync_queue_lib import claim, states
from sync_queue_lib.claim import Candidate, Unfinished


def candidate(message_id, res_id, refs=(), state="pending", attempts=0, model="res.partner"):
    return Candidate(message_id, model, res_id, [tuple(r) for r in refs], state, attempts)


def test_vocabulary_groups_are_consistent():
    names = [state for state, _label in states.STATES]
    assert len(set(names)) == len(names)
    for group in (states.FINAL, states.DUE, states.UNSENT, states.OPEN, states.CANCELLABLE, states.RETRIABLE,
                  states.AWAITING_ACK):
        assert set(group) <= set(names), group
    assert set(states.OPEN) | set(states.FINAL) == set(names)
    assert not set(states.OPEN) & set(states.FINAL)
    assert set(states.UNSENT) <= set(states.DUE) <= set(states.OPEN)
    assert "sending" not in states.DUE and "sending" not in states.CANCELLABLE
    assert states.is_unsent("waiting", 0) and not states.is_unsent("waiting", 1)
    assert not states.is_unsent("retry", 0)


def test_a_reference_to_a_record_in_the_same_batch_holds_nothing_back():
    parent, child = candidate(1, 10), candidate(2, 20, refs=[("res.partner", 10)])
    unfinished = {("res.partner", 10): [Unfinished(1, "u1", "pending", True)]}
    assert claim.holds([child, parent], unfinished) == {}
    # and the referenced record goes first, whatever the ids say
    assert claim.send_order([candidate(1, 20, refs=[("res.partner", 10)]), candidate(2, 10)]) == [2, 1]


def test_a_reference_to_an_unfinished_message_outside_the_batch_holds_and_says_which():
    child = candidate(2, 20, refs=[("res.partner", 10), ("res.partner.category", 3)])
    blocker = Unfinished(7, "u7", "sending", False)
    held = claim.holds([child], {("res.partner", 10): [blocker]})
    assert held == {2: [claim.Hold(("res.partner", 10), blocker)]}
    # in flight: nothing to pull, the child waits
    assert claim.to_pull(held) == set()


def test_due_blockers_are_pulled_into_the_batch_and_others_are_not():
    held = claim.holds([candidate(2, 20, refs=[("res.partner", 10), ("res.partner", 11), ("res.partner", 12)])], {
        ("res.partner", 10): [Unfinished(7, "u7", "pending", True)],
        ("res.partner", 11): [Unfinished(8, "u8", "retry", False)],  # due later
        ("res.partner", 12): [Unfinished(9, "u9", "sent", True)],  # awaiting its acknowledgement
    })
    assert claim.to_pull(held) == {7}


def test_a_held_message_never_claimed_keeps_out_of_the_unsent_set_unless_pending():
    assert claim.held_state("pending", 0) == "waiting"
    assert claim.held_state("waiting", 0) == "waiting"
    assert claim.held_state("retry", 2) == "waiting"
    # a retried message never claimed (a failed queueing retried) stays retry: "waiting" with attempt 0 would make
    # it unsent, beside the message a later change of its record may have queued
    assert claim.held_state("retry", 0) == "retry"


def test_send_order_without_references_is_queue_order():
    assert claim.send_order([candidate(5, 1), candidate(3, 2), candidate(4, 3)]) == [3, 4, 5]


def test_a_deletion_waits_while_a_document_on_the_network_references_its_record():
    deletion = Candidate(5, "res.partner", 10, [], "pending", 0, "delete")
    other = Candidate(6, "res.partner", 11, [], "pending", 0, "delete")
    upsert = Candidate(7, "res.partner", 10, [], "pending", 0)  # an upsert of it waits for nothing of this kind
    on_the_network = [claim.InFlight(1, "u1", [["res.partner", 10]]), claim.InFlight(2, "u2", [["res.country", 10]])]
    held = claim.deletion_holds([deletion, other, upsert], on_the_network)
    assert list(held) == [5]
    assert held[5][0].key == ("res.partner", 10) and held[5][0].blocker.uuid == "u1"
    assert claim.to_pull(held) == set()  # a message being sent is never pulled into the batch
    # the referencing message in the same batch: one call, nothing to wait for
    assert claim.deletion_holds([deletion], [claim.InFlight(5, "u5", [["res.partner", 10]])]) == {}
    assert claim.deletion_holds([deletion], []) == {}


def test_a_document_never_waits_for_the_deletion_of_a_record_it_references_the_deletion_waits_for_it():
    # a contact's frozen upsert (retried) references its company, whose deletion is queued
    contact = Candidate(7, "res.partner", 20, [("res.partner", 10)], "retry", 1)
    deletion = Candidate(8, "res.partner", 10, [], "pending", 0, "delete")
    unfinished = {("res.partner", 10): [Unfinished(8, "u8", "pending", True, "delete")]}
    assert claim.holds([contact], unfinished) == {}  # no wait: no cycle of waits, ever
    # the deletion claimed alone waits while the contact's document may still arrive (on the network, sent,
    # or to be retried) ...
    waiting = claim.deletion_holds([deletion], [claim.InFlight(7, "u7", [["res.partner", 10]], "retry")])
    assert waiting[8][0].blocker.state == "retry"
    # ... and claimed together, the document goes first, the deletion last
    assert claim.send_order([deletion, contact]) == [7, 8]
    assert claim.send_order([Candidate(8, "res.partner", 10, [], "pending", 0), contact]) == [8, 7]
