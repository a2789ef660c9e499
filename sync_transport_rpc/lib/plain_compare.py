"""Plain mode reconciliation: compare documents with the records a remote Odoo holds, with ordinary RPC calls.

Nothing here imports odoo.  The remote records are found through the
external identifiers the suite gave them (``<module>.<model>_<id>``, see
:mod:`.plain`) when the remote login may read ``ir.model.data``, else through
the bindings kept here; they are read in one ``search_read`` per batch, and
each property is compared after the conversions ``load()`` applies when the
document is sent (text for scalars, remote ids for references).
"""

import re

from .client import RpcError
from .plain import RELATIONAL, UNSUPPORTED, _fields, _Resolver, load_scalar, xmlid_module, xmlid_name

__all__ = ["compare_batch", "holdings", "xmlids_readable"]

NUMERIC = ("integer", "float", "monetary")


def xmlids_readable(client):
    """Whether the remote login may read external identifiers (asked once per pooled client)."""
    cache = client.__dict__
    if "xmlids_readable" not in cache:
        try:
            client.execute("ir.model.data", "search", [("id", "=", 0)], limit=1)
            cache["xmlids_readable"] = True
        except RpcError as exc:
            if exc.transient:
                raise
            cache["xmlids_readable"] = False
    return cache["xmlids_readable"]


def _remote_ids(client, remote_model, own_code, model, res_ids, bindings):
    """``{res_id: remote id}`` of the records there: by external identifier, else by binding (a login that may
    not read identifiers, or an identifier lost there: the same record either way)."""
    located = {res_id: int(bindings[res_id]) for res_id in res_ids if str(bindings.get(res_id) or "").isdigit()}
    if not xmlids_readable(client):
        return located
    names = {xmlid_name(model, res_id): res_id for res_id in res_ids}
    rows = client.execute("ir.model.data", "search_read",
                          [("module", "=", xmlid_module(own_code)), ("model", "=", remote_model),
                           ("name", "in", sorted(names))], ["name", "res_id"])
    located.update({names[row["name"]]: row["res_id"] for row in rows if row["name"] in names})
    return located


def _expected_text(ftype, value):
    return load_scalar(ftype, value)


def _actual_text(ftype, value):
    if ftype == "boolean":
        return "1" if value else "0"
    if value is None or value is False:
        return ""
    return str(value)


def _same_scalar(ftype, expected, actual):
    if ftype in NUMERIC:
        try:
            left, right = float(expected or 0), float(actual or 0)
        except ValueError:
            return expected == actual
        return abs(left - right) <= 1e-9 * max(1.0, abs(left), abs(right))
    return expected == actual


def _relational_ids(value):
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str):
        return [value[0]]  # many2one: [id, name]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, int)]
    return []


def _there(ftype, value):
    """A remote value as a difference shows it: a many2one as ``{"id", "name"}``."""
    if ftype == "many2one" and isinstance(value, list) and len(value) == 2:
        return {"id": value[0], "name": value[1]}
    if value is False and ftype != "boolean":
        return None
    return value


def _differences(document, remote, fields_info, resolver):
    """What differs between a document and the remote record read for it."""
    found = []
    for prop in sorted(document):
        info = fields_info.get(prop)
        value = document[prop]
        if info is None:
            found.append({"property": prop, "here": value, "there": "(no such field there)"})
            continue
        ftype = info["type"]
        if ftype in UNSUPPORTED:
            continue
        actual = remote.get(prop)
        if ftype in RELATIONAL:
            refs = value if isinstance(value, list) else ([value] if value else [])
            expected = [resolver.resolve(info["relation"], ref) for ref in refs]
            if None in expected or sorted(expected) != sorted(_relational_ids(actual)):
                found.append({"property": prop, "here": value, "there": _there(ftype, actual)})
            continue
        if not _same_scalar(ftype, _expected_text(ftype, value), _actual_text(ftype, actual)):
            found.append({"property": prop, "here": value, "there": _there(ftype, actual)})
    return found


def compare_batch(client, remote_model, own_code, model, items, bindings):
    """Compare ``items`` (``{res_id: document or None}`` of local ``model``) with the remote; ``{res_id:
    (exists, remote_ref, diff)}`` as ``sync.transport._compare_records`` returns.

    ``bindings``: ``{res_id: remote_ref}`` kept here.  Network failures raise
    :class:`RpcError`.
    """
    located = _remote_ids(client, remote_model, own_code, model, list(items), bindings)
    documents = {res_id: document for res_id, document in items.items() if document is not None}
    props = sorted({prop for document in documents.values() for prop in document})
    fields_info = _fields(client, remote_model, props) if props else {}
    readable = [prop for prop in props if prop in fields_info and fields_info[prop]["type"] not in UNSUPPORTED]
    rows = client.execute(remote_model, "search_read", [("id", "in", sorted(set(located.values())))],
                          readable or ["id"], context={"active_test": False}) if located else []
    by_id = {row["id"]: row for row in rows}
    resolver = _Resolver(client)
    results = {}
    for res_id, document in items.items():
        remote_id = located.get(res_id)
        remote = by_id.get(remote_id)
        if remote is None:
            results[res_id] = (False, None, None)
        elif document is None:
            results[res_id] = (True, str(remote_id), [])
        else:
            results[res_id] = (True, str(remote_id), _differences(document, remote, fields_info, resolver))
    return results


def holdings(client, remote_model, own_code, model, after, limit):
    """A page of what the remote holds under this database's identifiers for local ``model``: ``(rows, next)``
    as ``sync.transport._compare_holdings`` returns.

    With a login that may read external identifiers, the page is one of
    ``ir.model.data`` (the cursor its id).  Without, the remote model's records
    are paged through (the cursor a remote id) and ``get_metadata`` (which
    any reader of a record may call) says which carry one of ours: it costs a
    call per page of the whole remote model, not only of our records.
    """
    prefix = xmlid_name(model, "")
    pattern = re.compile(re.escape(prefix) + r"([0-9]{1,9})$")
    if not xmlids_readable(client):
        return _holdings_by_metadata(client, remote_model, xmlid_module(own_code) + "." + prefix, after, limit)
    found = client.execute("ir.model.data", "search_read",
                           [("module", "=", xmlid_module(own_code)), ("model", "=", remote_model),
                            ("id", ">", after)], ["name", "res_id"], limit=limit, order="id")
    if not found:
        return [], None
    named = {}
    for row in found:
        match = pattern.match(row["name"] or "")
        if match:
            named[int(match.group(1))] = row["res_id"]
    # an identifier whose record was deleted there by SQL points at nothing
    existing = set(client.execute(remote_model, "search", [("id", "in", sorted(set(named.values())))],
                                  context={"active_test": False})) if named else set()
    rows = sorted((res_id, str(remote_id)) for res_id, remote_id in named.items() if remote_id in existing)
    following = found[-1]["id"] if len(found) == limit else None
    return rows, following


def _holdings_by_metadata(client, remote_model, start, after, limit):
    """:func:`holdings` for a login that may not read ``ir.model.data``; ``start``: ``<module>.<model>_``."""
    ids = client.execute(remote_model, "search", [("id", ">", after)], limit=limit, order="id",
                         context={"active_test": False})
    if not ids:
        return [], None
    rows = []
    for entry in client.execute(remote_model, "get_metadata", ids):
        for xmlid in entry.get("xmlids") or []:
            name = xmlid.get("xmlid") or ""
            tail = name[len(start):]
            if name.startswith(start) and tail.isdigit() and len(tail) <= 9:
                rows.append((int(tail), str(entry["id"])))
    return sorted(rows), (ids[-1] if len(ids) == limit else None)
