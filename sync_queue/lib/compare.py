"""Reconciliation: what comparing a record here with its counterpart there concludes.

Nothing here imports odoo.  The comparison runs (``sync.compare.run``) feed
these functions plain data: the document a data type would send now, what the
transport found on the other side, the state of the record's last message;
they return the outcome and the differences.  The digest protocol of the
receiving suite (``POST /sync/<code>/digest`` and ``/documents``) is here too,
on both of its sides: what the receiver answers (:func:`digest`,
:func:`restrict`) and how a sender compares through it
(:func:`compare_by_digest`), whatever carries its requests (the RPC
transport's suite mode, a broker's digest route).
"""

import hashlib
import json

__all__ = [
    "DIGEST_BATCH",
    "DRIFT",
    "OUTCOMES",
    "REPAIR_DELETE",
    "REPAIR_REQUEUE",
    "RUN_STATES",
    "CompareProtocolError",
    "canonical",
    "classify",
    "compare_by_digest",
    "diff",
    "digest",
    "holdings_page",
    "parse_digest_request",
    "restrict",
]

#: every outcome of a compared record, in the order the UI lists them
OUTCOMES = [
    ("in_step", "In Step"),
    ("differs", "Differs"),
    ("missing", "Missing There"),
    ("only_there", "Only There"),
    ("not_sent", "Not Sent"),
    ("error", "Not Comparable"),
]
#: outcomes that say the two sides disagree
DRIFT = ("differs", "missing", "only_there", "not_sent")
#: repaired by queueing the record again (an upsert built from the record as it is now)
REPAIR_REQUEUE = ("differs", "missing", "not_sent")
#: repaired by queueing the deletion of the record there (where the data type syncs deletions)
REPAIR_DELETE = ("only_there",)

#: the states of a comparison run
RUN_STATES = [
    ("queued", "Queued"),
    ("running", "Running"),
    ("stopped", "Stopped"),
    ("done", "Done"),
    ("failed", "Failed"),
]

#: records per digest request: 100,000 in-step records move about 40 requests of digests
DIGEST_BATCH = 2500
#: differences kept per record: a record that differs in everything says so without filling the table
MAX_DIFFERENCES = 50
#: characters of a value kept in a difference
MAX_VALUE_CHARS = 500


class CompareProtocolError(ValueError):
    """A digest request or answer that is not what the protocol says; the text says what and where."""


def canonical(document):
    """The canonical JSON text of a document (sorted keys, compact, UTF-8): equal documents, equal texts."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def digest(document):
    """SHA-256 (hex) of the canonical JSON of ``document``."""
    return hashlib.sha256(canonical(document).encode("utf-8")).hexdigest()


def restrict(document, properties):
    """``document`` with only the top-level ``properties`` (a set) it has; None stays None."""
    if document is None:
        return None
    return {key: value for key, value in document.items() if key in properties}


def _short(value):
    text = canonical(value) if not isinstance(value, str) else value
    if len(text) <= MAX_VALUE_CHARS:
        return value
    return text[:MAX_VALUE_CHARS] + "\u2026"


def diff(here, there, path=""):
    """The differences between two documents: ``[{"property", "here", "there"}]``, at most ``MAX_DIFFERENCES``.

    Objects are compared property by property (``parent.child``), arrays of
    the same length item by item (``lines[2].name``); anything else whole.
    A property missing on one side is ``None`` there.
    """
    found = []
    _diff(here, there, path, found)
    return found[:MAX_DIFFERENCES]


def _diff(here, there, path, found):
    if len(found) >= MAX_DIFFERENCES or canonical(here) == canonical(there):
        return
    if isinstance(here, dict) and isinstance(there, dict):
        for key in sorted(set(here) | set(there)):
            _diff(here.get(key), there.get(key), f"{path}.{key}" if path else key, found)
        return
    if isinstance(here, list) and isinstance(there, list) and len(here) == len(there) and here:
        for index, (left, right) in enumerate(zip(here, there, strict=True)):
            _diff(left, right, f"{path}[{index}]", found)
        return
    found.append({"property": path or "(document)", "here": _short(here), "there": _short(there)})


def classify(in_scope, exists_there, differences, last_message_state, error=None):
    """The outcome of one record, or None when there is nothing to say (neither here nor there).

    ``in_scope``: the data type sends the record to the system now (it exists,
    matches the domain, the conditions and the company); ``exists_there``: the
    other side holds its counterpart; ``differences``: what :func:`diff` found
    (for a record on both sides); ``last_message_state``: the state of the last
    message of the record to the system, or None; ``error``: why the record
    could not be compared.

    A record whose last message is not done and that is not in step is
    ``not_sent``: the queue knows of the change (on its way, failed or
    cancelled), whatever the other side holds.
    """
    if error:
        return "error"
    unsent = last_message_state is not None and last_message_state != "done"
    if in_scope:
        if exists_there and not differences:
            return "in_step"
        if unsent:
            return "not_sent"
        return "differs" if exists_there else "missing"
    if not exists_there:
        return None
    return "not_sent" if unsent else "only_there"


# ----------------------------------------------------------------------
# The digest protocol
# ----------------------------------------------------------------------
def parse_digest_request(body, max_ids=DIGEST_BATCH):
    """Check a ``/digest`` or ``/documents`` request body; return ``(type, model, ids, properties, after, source)``.

    ``{"type": "<message type>", "model": "<source model>", "ids": [1, 2],
    "properties": ["name", ...]}`` asks about the records ``ids`` of the
    sender; ``{"type", "model", "after": 0, "limit": 1000}`` (no ``ids``) asks
    which records of the sender's model the receiver holds, after the id
    ``after``.  An optional ``"source"`` names the database the records come
    from, when a broker asks for one of its relay sources (None: the caller
    itself).  Raises :class:`CompareProtocolError` naming the key at fault.
    """
    if not isinstance(body, dict):
        raise CompareProtocolError("the body must be a JSON object")
    message_type, model = body.get("type"), body.get("model")
    if not isinstance(message_type, str) or not message_type:
        raise CompareProtocolError("'type' must be the message type, a non-empty string")
    if not isinstance(model, str) or not model:
        raise CompareProtocolError("'model' must be the sender's model, a non-empty string")
    properties = body.get("properties")
    if properties is not None and (not isinstance(properties, list)
                                   or not all(isinstance(p, str) for p in properties)):
        raise CompareProtocolError("'properties' must be an array of property names")
    source = body.get("source")
    if source is not None and (not isinstance(source, str) or not source):
        raise CompareProtocolError("'source' must be the code of the records' database, a non-empty string")
    ids = body.get("ids")
    if ids is None:
        after, limit = body.get("after", 0), body.get("limit", max_ids)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise CompareProtocolError("'after' must be a record id, an integer of 0 or more")
        if not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= max_ids:
            raise CompareProtocolError(f"'limit' must be an integer from 1 to {max_ids}")
        return message_type, model, None, properties, (after, limit), source
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids):
        raise CompareProtocolError("'ids' must be an array of record ids (positive integers)")
    if len(ids) > max_ids:
        raise CompareProtocolError(f"'ids' has {len(ids)} ids; at most {max_ids} per request")
    return message_type, model, ids, properties, None, source


def _answer_rows(answer, key, what):
    rows = answer.get("records") if isinstance(answer, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, dict) and isinstance(row.get("id"), int)
                                             for row in rows):
        raise CompareProtocolError(f"the {what} answer has no 'records' array of objects with an 'id'")
    return {row["id"]: row for row in rows if key is None or key in row}


def compare_by_digest(post, message_type, model, items, source=None):
    """Compare ``items`` with the receiving suite through its digest protocol; ``{id: (exists, remote_ref, diff)}``.

    ``post(route, body)`` sends a request to the receiver's ``/digest`` or
    ``/documents`` route and returns the decoded answer (or raises the
    carrier's error).  ``items``: ``{id: document or None}`` (None: the record
    is not sent here any more, only whether it is there matters).  One digest
    request for the batch; full documents only for those whose digests differ.
    ``source``, when given, is sent as the records' database.
    ``diff`` is None for a record not there, ``[]`` for one in step; a record
    the receiver holds but cannot build a document of is ``(None, remote_ref,
    its reason)``.
    """
    ids = sorted(items)
    properties = sorted({key for document in items.values() if document for key in document})
    extra = {"source": source} if source else {}
    answer = post("digest", {"type": message_type, "model": model, "ids": ids, "properties": properties, **extra})
    rows = _answer_rows(answer, None, "digest")
    common = answer.get("properties")
    common = set(common) if isinstance(common, list) else set(properties)
    results, differing = {}, []
    for record_id in ids:
        row = rows.get(record_id) or {}
        remote_digest, remote_ref = row.get("digest"), row.get("remote_ref")
        if isinstance(row.get("error"), str):
            # held there, its document not built there: not comparable, for the reason it gives
            results[record_id] = (None, str(remote_ref) if remote_ref is not None else None, row["error"][:500])
            continue
        if not isinstance(remote_digest, str):
            results[record_id] = (False, None, None)
            continue
        document = items[record_id]
        remote_ref = str(remote_ref) if remote_ref is not None else None
        if document is None or digest(restrict(document, common)) == remote_digest:
            results[record_id] = (True, remote_ref, [])
        else:
            results[record_id] = (True, remote_ref, None)
            differing.append(record_id)
    if differing:
        answer = post("documents", {"type": message_type, "model": model, "ids": differing,
                                    "properties": properties, **extra})
        documents = _answer_rows(answer, "document", "documents")
        for record_id in differing:
            there = (documents.get(record_id) or {}).get("document")
            exists, remote_ref, _none = results[record_id]
            if there is None:
                results[record_id] = (False, None, None)  # gone between the two requests
                continue
            differences = diff(restrict(items[record_id], common), there)
            # equal digests of a document that differs: a receiver's digest of another canonical form
            results[record_id] = (exists, remote_ref, differences or [
                {"property": "(digest)", "here": digest(restrict(items[record_id], common)), "there": None}])
    return results


def holdings_page(answer):
    """``(rows, next)`` of a listing answer of ``/digest`` (``{"records": [{"id", "remote_ref"}], "next"}``)."""
    rows = _answer_rows(answer, None, "digest listing")
    following = answer.get("next")
    if following is not None and (not isinstance(following, int) or isinstance(following, bool)):
        raise CompareProtocolError("the digest listing's 'next' must be a record id or null")
    return sorted((record_id, str(row.get("remote_ref"))) for record_id, row in rows.items()), following
