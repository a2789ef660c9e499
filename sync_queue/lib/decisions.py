"""The queue's decisions as plain functions over plain rows, tested without Odoo (``tests/pure``).

The models read the rows (SQL, ORM) and write what these functions decide;
nothing here imports odoo.
"""

from . import states

# ---------------------------------------------------------------------------
# Where a change goes
# ---------------------------------------------------------------------------


def may_hold_record(operation, state, attempt_count, has_envelope):
    """Whether a message to a system says that the system may hold its record.

    An upsert claimed at least once may have been delivered: it is on the
    network, acknowledged, or was handed to the transport before it failed or
    was cancelled.  One that finished without an envelope never left (its
    record could not be serialized): it says nothing.  One still being
    claimed and frozen (``sending`` without an envelope yet) may still go.
    A deletion never says that a system holds a record.
    """
    if operation != "upsert" or not attempt_count:
        return False
    return bool(has_envelope) or state not in states.FINAL


def reachable(system_company, record_company):
    """Whether a record of ``record_company`` (``None``: shared, or unknown) may reach a system of
    ``system_company`` (``None``: every company)."""
    return not system_company or not record_company or record_company == system_company


def deletion_targets(res_ids, systems, bindings, messages, record_companies=None):
    """To which systems the deletion of each record goes: ``{system_id: [res_id, ...]}``, in ``res_ids`` order.

    ``systems``: ``[(system_id, company_id or None)]``, the systems that
    receive the data type (active, not where the change came from).
    ``bindings``: ``[(system_id, res_id)]`` of the records' bindings.
    ``messages``: ``[(system_id, res_id, operation, state, attempt_count,
    has_envelope)]`` of the records' messages (of any data type of their
    model, as bindings are).
    ``record_companies``: ``{res_id: company_id or None}`` of records that
    still exist (a record leaving the data type); a deleted record's company
    is gone with it.

    A deletion goes to a system only when the system may hold the record: a
    binding (wherever the record has moved since), or an upsert that may
    have been delivered (:func:`may_hold_record`) when the record is within
    the system's company, so that a receiver never deletes a record of its
    own that merely looks like ours.
    """
    record_companies = record_companies or {}
    bound = set(map(tuple, bindings))
    maybe = {(system_id, res_id) for system_id, res_id, *message in messages if may_hold_record(*message)}
    targets = {}
    for system_id, company_id in systems:
        # a binding says where the record is, whatever company it has moved to since (its deletion names the
        # receiver's id, so it can hit nothing else); an upsert that may have arrived only within the company
        chosen = [res_id for res_id in res_ids
                  if (system_id, res_id) in bound
                  or ((system_id, res_id) in maybe and reachable(company_id, record_companies.get(res_id)))]
        if chosen:
            targets[system_id] = chosen
    return targets


def _keys(reference_keys):
    """Reference keys in a form that compares: ``[[model, id]]`` from JSON, tuples from Python, or nothing."""
    return sorted(tuple(key) for key in reference_keys or ())


def coalesce(new, existing):
    """What a new change of records does to the queue: ``(insert, refresh)``.

    ``new``: ``[vals]`` of the messages the change would queue (``system_id``,
    ``res_id``, ``operation``, ``reference_keys``, ``record_name``...).
    ``existing``: ``{(system_id, res_id): (message_id, reference_keys,
    record_name)}`` of the messages of the same records, data type and
    operation not sent yet (:func:`.states.is_unsent`).

    A record with such a message gets no second one: the change goes with it,
    since its document is built when it is claimed.  What that message was
    ordered by is refreshed though: an upsert's ``reference_keys`` (a contact
    that got a new parent company since must wait for that company) and its
    ``record_name``.  ``insert`` is the ``vals`` to insert, ``refresh``
    ``[(message_id, {field: value})]`` of the messages whose values changed.
    """
    insert, refresh = [], []
    for vals in new:
        found = existing.get((vals["system_id"], vals["res_id"]))
        if found is None:
            insert.append(vals)
            continue
        if vals.get("operation") != "upsert":
            continue  # a deletion carries what was kept of its record when it was queued
        message_id, reference_keys, record_name = found
        changes = {}
        if _keys(vals.get("reference_keys")) != _keys(reference_keys):
            changes["reference_keys"] = vals.get("reference_keys") or False
        if vals.get("record_name") and vals["record_name"] != record_name:
            changes["record_name"] = vals["record_name"]
        if changes:
            refresh.append((message_id, changes))
    return insert, refresh


def superseded(new, opposite):
    """Ids of the messages not sent yet that the new messages ``new`` (``[vals]``) make moot: those of the
    opposite operation for the same system and record (``opposite``: ``{(system_id, res_id): [message id]}``).

    A record's last change wins: a record that leaves the data type and comes
    back before anything was sent needs its upsert, not the deletion queued
    in between (and the other way round).  Only the pairs the new messages go
    to are touched: a deletion still owed to a system the record no longer
    reaches is kept.
    """
    return [message_id for vals in new for message_id in opposite.get((vals["system_id"], vals["res_id"]), ())]


# ---------------------------------------------------------------------------
# What a transport's result leaves behind
# ---------------------------------------------------------------------------

def keeps_attempt(status, moved, attempt_count=1, in_call=True):
    """Whether an attempt's result gets a row in the attempt log.

    Only the common case leaves none: a message's first attempt,
    acknowledged in the call, which moved it to ``done``; the message holds
    all of it (``done``, ``sent_at`` and ``acked_at``, ``attempt_count`` 1,
    ``send_duration``).  Every other attempt is kept: a failure
    (``transient``, ``permanent``: the retry history), an ``accepted``
    delivery (the envelope is out while its acknowledgement may never come,
    and go again), any attempt after the first (the envelope went more than
    once: after a failure, a recovered lease, an overdue acknowledgement),
    and a result that moved nothing (a late answer for an attempt recovered
    and claimed again since).  An acknowledgement posted later (not
    ``in_call``) that moved its message is no attempt: the response queue
    keeps it.
    """
    if status == "acknowledged" and moved:
        return in_call and attempt_count > 1
    return True


def keeps_reply(status, moved):
    """Whether what the receiver answered in the send call gets a row in the response queue.

    A refusal (``permanent``) is kept with its reason, and an acknowledgement
    that moved nothing (a duplicate: the message was already answered, or is
    another attempt's now).  An acknowledgement that moved its message is
    on the message (``done``, ``acked_at``) and on its binding (the
    receiver's reference): nothing is left to keep.  A transient failure is
    no answer of the receiver: the attempt log has it.
    """
    if status == "permanent":
        return True
    return status == "acknowledged" and not moved
