"""What the queue's buttons (Retry, Cancel, Requeue) do with each message of a selection, and the tally the
notification reports ("3 messages retried, 1 skipped: already done"); plain functions, no odoo.

Each function returns :data:`ACTED` or the key of the reason a message is skipped; the model turns the keys
into translated words.
"""

from collections import Counter

from . import states

#: the message was retried, cancelled or requeued
ACTED = "acted"

#: reasons a message is skipped, in the order a notification lists them
DONE = "done"  # already acknowledged: nothing to send again
SENDING = "sending"  # on the network right now
CANCELLED = "cancelled"  # already given up (Requeue builds it again)
DUE = "due"  # already waiting for its turn
GONE = "gone"  # its record no longer exists
LEFT = "left"  # its record no longer matches the data type (domain, conditions)
NOT_RECEIVED = "not_received"  # its system no longer receives the data type, or is archived
ELSEWHERE = "elsewhere"  # the record is not the system's (another company; a deletion of a record it never got)
SKIP_REASONS = (DONE, SENDING, CANCELLED, DUE, GONE, LEFT, NOT_RECEIVED, ELSEWHERE)

#: the characters of the first line of an error that the list shows and groups by
SUMMARY_LENGTH = 80


def retry_outcome(state, attempt_count):
    """What Retry does with a message in ``state``: :data:`ACTED` (sent again, or made due now when it was
    never claimed) or why it is skipped."""
    if states.is_unsent(state, attempt_count) or state in states.RETRIABLE:
        return ACTED
    return {"done": DONE, "sending": SENDING, "cancelled": CANCELLED}.get(state, DUE)


def cancel_outcome(state):
    """What Cancel does with a message in ``state``: :data:`ACTED` or why it is skipped (a message on the
    network cannot be called back; a finished one has nothing left to give up)."""
    if state in states.CANCELLABLE or state == "failed":
        return ACTED
    return {"done": DONE, "sending": SENDING, "cancelled": CANCELLED}.get(state, DUE)


def requeue_skip(operation, record_exists, record_matches, system_receives):
    """Why Requeue queued nothing for a message whose record is ``record_exists`` / ``record_matches`` the
    data type (both ignored for a deletion) and whose system ``system_receives`` the data type."""
    if operation == "upsert" and not record_exists:
        return GONE
    if operation == "upsert" and not record_matches:
        return LEFT
    if not system_receives:
        return NOT_RECEIVED
    return ELSEWHERE


def tally(outcomes):
    """``(acted, [(reason, count)])`` of a list of outcomes: how many were acted on, and the skip reasons
    with their counts, in :data:`SKIP_REASONS` order."""
    counts = Counter(outcomes)
    return counts.pop(ACTED, 0), [(reason, counts[reason]) for reason in SKIP_REASONS if counts.get(reason)]


def error_summary(text):
    """The first line of an error, cut to :data:`SUMMARY_LENGTH` characters: what the list shows beside the
    other columns and groups by.  The SQL trigger of ``sync.message`` computes the same (see its ``init``)."""
    if not text:
        return False
    line = text.strip(" \t\r\n").split("\n", 1)[0].strip(" \t\r")
    if len(line) > SUMMARY_LENGTH:
        line = line[:SUMMARY_LENGTH - 1] + "\u2026"
    return line or False
