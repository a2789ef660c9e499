"""Which claimed candidates may go now, which wait, and for what: the claim's decisions over plain rows.

Nothing here imports odoo.  ``sync.message`` reads the rows (its SQL) and
writes the outcome (its ORM); this module only decides, so that each rule is
tested on its own (``tests/pure/test_claim_decisions.py``).
"""

from collections import namedtuple

from .states import DUE, UNSENT

#: a candidate of the batch: its record and the records its document references (``[(model, res_id)]``)
Candidate = namedtuple("Candidate", "id model res_id reference_keys state attempt_count operation",
                       defaults=("upsert",))
#: a message of the system on the network (``sending``): the records its document references
InFlight = namedtuple("InFlight", "id uuid reference_keys")
#: an unfinished message of a referenced record: ``due`` when it could be claimed now
Unfinished = namedtuple("Unfinished", "id uuid state due")
#: why a candidate waits: the referenced record ``key`` and the message it waits for
Hold = namedtuple("Hold", "key blocker")


def referenced_keys(candidates):
    """Every ``(model, res_id)`` the candidates' documents reference."""
    return {tuple(key) for candidate in candidates for key in (candidate.reference_keys or ())}


def holds(candidates, unfinished):
    """``{candidate id: [Hold]}`` for the candidates whose document references a record with an unfinished
    message outside the batch (``unfinished``: ``{(model, res_id): [Unfinished]}``).

    A referenced record whose message goes in the same batch holds nothing
    back: the batch goes in one call, referenced records first.
    """
    batch = {candidate.id for candidate in candidates}
    held = {}
    for candidate in candidates:
        found = [Hold(tuple(key), blocker)
                 for key in (candidate.reference_keys or ())
                 for blocker in unfinished.get(tuple(key), ())
                 if blocker.id not in batch]
        if found:
            held[candidate.id] = found
    return held


def deletion_holds(candidates, in_flight):
    """``{candidate id: [Hold]}`` for the deletions whose record a document on the network references
    (``in_flight``: :class:`InFlight` messages of other batches, ``sending``).

    Batches of a system can be on the network at once: a record's deletion
    delivered beside a document that references the record could be applied
    first, and that document would then reference a record gone.  The
    deletion waits until those documents are answered.  A hold's key is the
    deleted record itself.
    """
    batch = {candidate.id for candidate in candidates}
    referencing = {}
    for message in in_flight:
        if message.id in batch:
            continue
        for key in message.reference_keys or ():
            referencing.setdefault(tuple(key), []).append(message)
    held = {}
    for candidate in candidates:
        if candidate.operation != "delete":
            continue
        key = (candidate.model, candidate.res_id)
        found = [Hold(key, Unfinished(message.id, message.uuid, "sending", False))
                 for message in referencing.get(key, ())]
        if found:
            held[candidate.id] = found
    return held


def to_pull(held):
    """Ids of the messages holding candidates back that are due now: claimed with the batch, so that a
    cycle of references goes together, also when it straddles the end of a batch."""
    return {hold.blocker.id for found in held.values() for hold in found
            if hold.blocker.state in DUE and hold.blocker.due}


def held_state(state, attempt_count):
    """The state of a candidate that waits: ``waiting``, except for a message never claimed that is not
    pending (``waiting`` would put it among the unsent messages, beside one a later change may have queued)."""
    return "waiting" if state in UNSENT or attempt_count else state


def send_order(free):
    """Ids of the free candidates in the order they go: records referenced by others of the batch first,
    then by id (the order they were queued in)."""
    referenced = referenced_keys(free)
    return [candidate.id for candidate in
            sorted(free, key=lambda c: ((c.model, c.res_id) not in referenced, c.id))]
