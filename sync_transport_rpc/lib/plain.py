"""Plain mode: apply envelopes to a remote Odoo that has nothing of the suite, with ordinary RPC calls.

Nothing here imports odoo.  Upserts go through the remote model's
``load()`` (Odoo's import API): one call per batch creates or updates the
records and their external identifiers (``<module>.<model>_<id>``, the
module naming this database) in one remote transaction, without
administrator rights, so a record sent twice is updated, never duplicated.

References (many2one, many2many) are resolved to remote ids: ``{"$ref": id}``
(a binding) as is, primary values (``{"code": "BE"}``) or ``{"name": ...}``
by a search on the remote.  A reference that cannot be resolved yet fails
its envelope transiently, naming the record.  Records that reference others
of the same batch (a parent company, a parent category) go in later passes
of the same batch, once what they reference exists: a hierarchy arrives
whole whatever its order.
"""

import re

from .client import TRANSIENT_MARKERS, RpcError

# sync_base/lib/envelope.py's BINDING_REF, repeated: this module imports nothing of the other addons
BINDING_REF = "$ref"
# remote records looked at for a deletion without binding: ours is among those with the primary values
DELETION_CANDIDATES = 20

__all__ = ["Outcome", "apply_batch", "load_scalar", "xmlid_module", "xmlid_name"]

RELATIONAL = ("many2one", "many2many")
UNSUPPORTED = ("one2many", "binary", "reference", "many2one_reference", "properties", "properties_definition")
# enough for any hierarchy a batch carries
MAX_PASSES = 8
ISO_DATETIME_RE = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?(?:Z|\+00:00)$")


class Outcome:
    """The result of one envelope: ``status`` ``done`` | ``transient`` | ``permanent``."""

    __slots__ = ("reason", "remote_id", "status")

    def __init__(self, status, reason=None, remote_id=None):
        self.status = status
        self.reason = reason
        self.remote_id = remote_id

    def __repr__(self):
        return f"Outcome({self.status!r}, {self.reason!r}, {self.remote_id!r})"


def xmlid_module(own_code):
    """The module of the external identifiers this database gives its records over there."""
    return "sync_" + re.sub(r"[^a-z0-9_]", "_", own_code.lower())


def xmlid_name(model, record_id):
    return f"{model.replace('.', '_')}_{record_id}"


def load_scalar(field_type, value):
    """A document value as ``load()`` reads it (text), in UTC."""
    if field_type == "boolean":
        return "1" if value else "0"
    if value is None or value is False:
        return ""
    if field_type == "datetime" and isinstance(value, str):
        match = ISO_DATETIME_RE.match(value)
        if match:
            return f"{match.group(1)} {match.group(2)}"
    return str(value)


class _Resolver:
    """Remote ids of referenced records, one search per distinct reference and batch."""

    def __init__(self, client):
        self.client = client
        self.cache = {}

    def resolve(self, relation, ref):
        if not isinstance(ref, dict) or not ref:
            return None
        if BINDING_REF in ref:
            remote_id = str(ref[BINDING_REF])
            return int(remote_id) if remote_id.isdigit() else None
        # {"ref": <remote id>}: a binding as senders before "$ref" wrote it, only where no field is called ref;
        # elsewhere "ref" is a value of the remote's field ref, never an id
        if set(ref) == {"ref"} and str(ref["ref"]).isdigit() and "ref" not in _fields(self.client, relation):
            return int(ref["ref"])
        key = (relation, tuple(sorted((k, str(v)) for k, v in ref.items())))
        if key not in self.cache:
            if set(ref) == {"name"}:
                found = self.client.execute(relation, "name_search", ref["name"], [], "=", limit=2)
                ids = [row[0] for row in found]
            else:
                domain = [(name, "=", value) for name, value in ref.items()]
                ids = self.client.execute(relation, "search", domain, limit=2,
                                          context={"active_test": False})
            self.cache[key] = ids[0] if len(ids) == 1 else None
        return self.cache[key]


def _fields(client, model, names=()):
    """The remote fields of ``model``, kept on the pooled client; read again when one of ``names`` is unknown
    (a module installed on the remote since)."""
    cache = client.__dict__.setdefault("fields_cache", {})
    if model not in cache or any(name not in cache[model] for name in names):
        cache[model] = client.execute(model, "fields_get", [], attributes=["type", "relation", "readonly"])
    return cache[model]


def _row(fields_info, payload, resolver, remote_model):
    """``({column: text}, problem)``; ``problem`` is ``(status, reason)`` when the row cannot go yet."""
    row = {}
    for prop, value in payload.items():
        info = fields_info.get(prop)
        if info is None:
            return None, ("permanent", f"the remote {remote_model} has no field {prop!r}")
        ftype = info["type"]
        if ftype in UNSUPPORTED:
            return None, ("permanent", f"property {prop!r} ({ftype}) cannot be sent in plain mode: use suite mode")
        if ftype in RELATIONAL:
            refs = value if isinstance(value, list) else ([value] if value else [])
            ids = []
            for ref in refs:
                remote_id = resolver.resolve(info["relation"], ref)
                if remote_id is None:
                    reason = f"property {prop!r}: {info['relation']} {ref} is not on the remote yet"
                    return None, ("transient", reason)
                ids.append(str(remote_id))
            row[f"{prop}/.id"] = ",".join(ids)
        else:
            row[prop] = load_scalar(ftype, value)
    return row, None


def _load(client, remote_model, module, items, fields_info, resolver):
    """One ``load()`` of ``items`` (``[(index, envelope)]``) whose rows can be built; return outcomes by index."""
    outcomes, rows = {}, []
    for index, envelope in items:
        row, problem = _row(fields_info, envelope["payload"], resolver, remote_model)
        if problem:
            outcomes[index] = Outcome(problem[0], f"{envelope['record']['model']},{envelope['record']['id']}: "
                                                  f"{problem[1]}")
            continue
        row["id"] = f"{module}.{xmlid_name(envelope['record']['model'], envelope['record']['id'])}"
        rows.append((index, row))
    if not rows:
        return outcomes
    columns = sorted({column for _index, row in rows for column in row})
    data = [[row.get(column, "") for column in columns] for _index, row in rows]
    answer = client.execute(remote_model, "load", columns, data, context={"tz": "UTC", "tracking_disable": True})
    ids = answer.get("ids")
    if ids and len(ids) == len(rows) and all(ids):
        for (index, _row_data), remote_id in zip(rows, ids, strict=True):
            outcomes[index] = Outcome("done", remote_id=remote_id)
        return outcomes
    if len(rows) == 1:
        messages = [m.get("message", "") for m in answer.get("messages") or [] if m.get("type") == "error"]
        reason = "; ".join(messages) or "the remote refused the record"
        # the remote's concurrency errors only: "lock" alone would also match "block" or "clock"
        status = "transient" if any(marker in reason.lower() for marker in TRANSIENT_MARKERS) else "permanent"
        outcomes[rows[0][0]] = Outcome(status, reason)
        return outcomes
    # a refused row rolls the whole load back.  load() names the rows it refused (in a batch, also the first
    # row, under the batch's own error): those go alone, the others together again, so one bad record costs
    # a few calls, not one per record
    by_index = dict(items)
    suspects = {rows[position][0] for position in _refused_positions(answer, len(rows))}
    if suspects and len(suspects) < len(rows):
        others = [(index, by_index[index]) for index, _row_data in rows if index not in suspects]
        outcomes.update(_load(client, remote_model, module, others, fields_info, resolver))
        for index in sorted(suspects):
            outcomes.update(_load(client, remote_model, module, [(index, by_index[index])], fields_info, resolver))
        return outcomes
    for index, _row_data in rows:
        outcomes.update(_load(client, remote_model, module, [(index, by_index[index])], fields_info, resolver))
    return outcomes


def _refused_positions(answer, count):
    """Positions (in the rows sent) of the rows a failed ``load()`` names in its error messages."""
    positions = set()
    for message in answer.get("messages") or []:
        rows = message.get("rows") if message.get("type") == "error" else None
        first = rows.get("from") if isinstance(rows, dict) else None
        if isinstance(first, int) and 0 <= first < count:
            positions.add(first)
    return positions


def apply_batch(client, remote_model, own_code, upserts, deletions, delete_mode="unlink"):
    """Apply ``upserts`` and ``deletions`` (``[(index, envelope)]``) of one remote model; ``{index: Outcome}``.

    Network failures raise :class:`RpcError` (the caller fails the batch).
    """
    module = xmlid_module(own_code)
    fields_info = _fields(client, remote_model, {name for _index, env in upserts for name in env["payload"]})
    resolver = _Resolver(client)
    outcomes = {}
    pending = list(upserts)
    for _pass in range(MAX_PASSES):
        if not pending:
            break
        round_outcomes = _load(client, remote_model, module, pending, fields_info, resolver)
        waiting = [item for item in pending if round_outcomes[item[0]].status == "transient"]
        outcomes.update(round_outcomes)
        if len(waiting) == len(pending) or not any(o.status == "done" for o in round_outcomes.values()):
            break
        # what this pass created may be what the waiting rows reference
        resolver.cache.clear()
        pending = waiting
    if deletions:
        outcomes.update(_delete(client, remote_model, deletions, delete_mode, module))
    return outcomes


def _delete(client, remote_model, deletions, delete_mode, module):
    """Delete (or archive) the remote records of ``deletions``; ``{index: Outcome}``.

    A deletion names its record by the remote id of its binding
    (``{"$ref": id}``).  Without one (an upsert delivered but never
    acknowledged here), the records found by the primary values are
    candidates only: the one that carries the external identifier this
    database gave it (``get_metadata`` reads it for any user who may read the
    record) is deleted, and a remote record that merely has the same primary
    values, or whose id happens to equal one of them, never is.
    """
    outcomes, ids, candidates = {}, {}, {}
    for index, envelope in deletions:
        payload = dict(envelope["payload"])
        if BINDING_REF in payload and str(payload[BINDING_REF]).isdigit():
            ids[index] = int(payload[BINDING_REF])
            continue
        if (set(payload) == {"ref"} and str(payload["ref"]).isdigit()
                and "ref" not in _fields(client, remote_model)):
            ids[index] = int(payload["ref"])  # a binding as envelopes frozen before "$ref" carry it
            continue
        primary = {key: value for key, value in payload.items() if key != BINDING_REF}
        found = client.execute(remote_model, "search", [(key, "=", value) for key, value in primary.items()],
                               limit=DELETION_CANDIDATES, context={"active_test": False}) if primary else []
        if found:
            record = envelope["record"]
            candidates[index] = (found, f"{module}.{xmlid_name(record['model'], record['id'])}")
        else:
            outcomes[index] = Outcome("done")  # not there: already deleted
    if candidates:
        metadata = client.execute(remote_model, "get_metadata",
                                  sorted({remote_id for found, _xmlid in candidates.values() for remote_id in found}))
        ours = {entry["xmlid"]: row["id"] for row in metadata for entry in row.get("xmlids") or []}
        for index, (_found, xmlid) in candidates.items():
            if xmlid in ours:
                ids[index] = ours[xmlid]
            else:
                outcomes[index] = Outcome("done")  # never ours there: nothing of ours to delete
    if ids:
        existing = set(client.execute(remote_model, "search", [("id", "in", list(ids.values()))],
                                      context={"active_test": False}))
        gone = [remote_id for remote_id in ids.values() if remote_id in existing]
        try:
            if gone and delete_mode == "archive":
                client.execute(remote_model, "write", gone, {"active": False})
            elif gone:
                client.execute(remote_model, "unlink", gone)
        except RpcError as exc:
            if exc.transient:
                raise
            for index in ids:
                outcomes[index] = Outcome("permanent", str(exc))
            return outcomes
        for index, remote_id in ids.items():
            outcomes[index] = Outcome("done", remote_id=remote_id)
    return outcomes
