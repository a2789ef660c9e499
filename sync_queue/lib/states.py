"""The queue's vocabulary, defined once: message states and their groups, trigger sets, send schedulers.

Nothing here imports odoo: the models, the SQL and the pure decisions
(:mod:`.decisions`) all import these names, so a state is spelled in one place.
"""

#: every state of an outgoing message, in the order the UI lists them
STATES = [
    ("pending", "Pending"),
    ("waiting", "Waiting"),
    ("sending", "Sending"),
    ("sent", "Sent"),
    ("retry", "Retry"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]

#: a message in one of these states will never move again by itself
FINAL = ("done", "failed", "cancelled")
#: claimable once ``next_attempt_at`` has come (``sync_message_due_idx``)
DUE = ("pending", "retry", "waiting")
#: never claimed yet when ``attempt_count`` is 0: later changes of its record coalesce into it
UNSENT = ("pending", "waiting")
#: not final: an earlier message in one of these states holds a later message of its record back
OPEN = tuple(state for state, _label in STATES if state not in FINAL)
#: what a user may still cancel (not finished, not on the network right now)
CANCELLABLE = tuple(state for state in OPEN if state != "sending")
#: what Retry sends again
RETRIABLE = ("failed", "retry", "sent", "waiting")

#: why a message failed (``sync.message.failure_kind``), set where it fails
FAILURE_KINDS = [
    ("outage", "Attempts ran out"),  # passing failures until max_attempts: Retry once the outage is over
    ("build", "Could not be built"),  # its record could not be serialized (mapping, schema): Requeue after a fix
    ("refused", "Refused for good"),  # the receiver refused the envelope permanently: the same one would be too
]
#: failures of what the message carries: sending the identical frozen envelope again cannot help,
#: a new message built from the record as it is now (Requeue) can
CONTENT_FAILURES = ("build", "refused")
#: an acknowledgement is expected for a message in these states
AWAITING_ACK = ("sending", "sent", "retry")

#: operations of captured changes (``sync.change``) and of messages (``sync.message``)
CHANGE_OPERATIONS = ("create", "write", "unlink")
MESSAGE_OPERATIONS = ("upsert", "delete")

#: data type triggers that queue a creation, an update
CREATE_TRIGGERS = ("on_create", "on_create_or_write", "interval")
WRITE_TRIGGERS = ("on_write", "on_create_or_write", "interval")

#: the send schedulers, woken together after anything was queued
SEND_CRONS = (
    "sync_queue.ir_cron_send",
    "sync_queue.ir_cron_send_2",
    "sync_queue.ir_cron_send_3",
    "sync_queue.ir_cron_send_4",
)


def is_unsent(state, attempt_count):
    """Whether a message is still among those later changes of its record coalesce into."""
    return state in UNSENT and not attempt_count
