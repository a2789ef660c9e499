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
#: a message of the system whose frozen document may be on its way or retried (claimed at least once, not
#: finished: ``sending``, ``sent``, ``retry``, ``waiting`` again): the records that document references
InFlight = namedtuple("InFlight", "id uuid reference_keys state", defaults=("sending",))
#: an unfinished message of a referenced record: ``due`` when it could be claimed now
Unfinished = namedtuple("Unfinished", "id uuid state due operation", defaults=("upsert",))
#: why a candidate waits: the referenced record ``key`` and the message it waits for
Hold = namedtuple("Hold", "key blocker")


def referenced_keys(candidates):
    """Every ``(model, res_id)`` the candidates' documents reference."""
    return {tuple(key) for candidate in candidates for key in (candidate.reference_keys or ())}


def holds(candidates, unfinished):
    """``{candidate id: [Hold]}`` for the candidates whose document references a record with an unfinished
    message outside the batch (``unfinished``: ``{(model, res_id): [Unfinished]}``).

    A referenced record whose message goes in the same batch holds nothing
    back: the batch goes in one call, referenced records first.  Nor does
    the referenced record's deletion: it is the deletion that waits for the
    documents referencing its record (:func:`deletion_holds`), never the
    other way round.
    """
    batch = {candidate.id for candidate in candidates}
    held = {}
    for candidate in candidates:
        found = [Hold(tuple(key), blocker)
                 for key in (candidate.reference_keys or ())
                 for blocker in unfinished.get(tuple(key), ())
                 if blocker.id not in batch and blocker.operation != "delete"]
        if found:
            held[candidate.id] = found
    return held


def deletion_holds(candidates, in_flight):
    """``{candidate id: [Hold]}`` for the deletions whose record a frozen document of another batch references
    (``in_flight``: :class:`InFlight`, the system's messages claimed at least once and not finished).

    Such a document is on the network, waits for its acknowledgement, or
    goes again: a record's deletion delivered before it could be applied
    first, and that document would then reference a record gone.  The
    deletion waits until those messages are finished.  A hold's key is the
    deleted record itself.  (Within one batch, :func:`send_order` puts the
    deletion after the documents that reference its record.)
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
        found = [Hold(key, Unfinished(message.id, message.uuid, message.state, False))
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
    then by id (the order they were queued in), and last the deletions of records that others of the batch
    reference (their documents go before the record is gone)."""
    referenced = referenced_keys(free)

    def rank(candidate):
        if (candidate.model, candidate.res_id) not in referenced:
            return 1
        return 2 if candidate.operation == "delete" else 0

    return [candidate.id for candidate in sorted(free, key=lambda c: (rank(c), c.id))]
