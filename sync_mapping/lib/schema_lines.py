"""Where a data type's lines and its JSON Schema disagree; nothing here imports odoo.

A data type's documents are validated against its schema before they are
sent, so a line whose property the schema does not allow, or a property the
schema requires and no line fills, makes every document fail.  The admin is
warned where he works (the data type's form, the preview) before that.

:func:`compare` takes the lines as a tree, ``{property: None}`` for a value
and ``{property: {...}}`` for a line that builds nested objects (a model line:
the embedded data type's lines), and the schema as a parsed dict.  It checks
only what it understands, and says nothing rather than something false:

* a property is *not allowed* when the object schema closes its properties
  (``additionalProperties: false``, or ``unevaluatedProperties: false``) and
  neither ``properties`` nor ``patternProperties`` names it, or when its own
  schema is ``false``;
* a property is *missing* when ``required`` names it and no line fills it;
* nested objects are compared when the property's schema is an object schema,
  an array of them, or a ``anyOf``/``oneOf`` of one of them and ``null``
  (what generated schemas hold); a ``$ref``, an ``allOf`` or anything else
  is not followed.
"""

import re
from dataclasses import dataclass

__all__ = ["Disagreement", "compare", "describe"]

_MAX_DEPTH = 8


@dataclass(frozen=True, order=True)
class Disagreement:
    """``path``: dotted property path; ``kind``: ``"not_allowed"`` or ``"missing"``."""

    path: str
    kind: str


def _object_schema(schema):
    """The object schema describing the value of a property, or ``None`` when it is not plainly one."""
    if not isinstance(schema, dict):
        return None
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list):
            objects = [branch for branch in branches if isinstance(branch, dict) and branch.get("type") != "null"]
            return _object_schema(objects[0]) if len(objects) == 1 else None
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "array" in kinds and isinstance(schema.get("items"), dict):
        return _object_schema(schema["items"])
    if "object" in kinds or "properties" in schema:
        return schema
    return None


def _allowed(schema, name):
    """Whether the object ``schema`` lets a property ``name`` in."""
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    if name in properties:
        return properties[name] is not False
    for pattern in schema.get("patternProperties") or {}:
        try:
            if re.search(pattern, name):
                return True
        except re.error:  # a pattern Python cannot read: assume it lets the property in
            return True
    closed = schema.get("additionalProperties") is False or schema.get("unevaluatedProperties") is False
    return not closed


def compare(lines, schema, _prefix="", _depth=0):
    """The sorted :class:`Disagreement` list between the ``lines`` tree and the object ``schema``.

    ``lines`` maps each property to ``None`` or to the tree of the nested
    object it builds.  Raise TypeError when ``schema`` is not a dict (an
    object schema) or ``lines`` not a dict.
    """
    if not isinstance(schema, dict) or not isinstance(lines, dict):
        raise TypeError("compare() takes the lines as a dict and the schema as a dict (an object schema)")
    found = []
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    for name, nested in lines.items():
        path = f"{_prefix}{name}"
        if not _allowed(schema, name):
            found.append(Disagreement(path, "not_allowed"))
            continue
        inner = _object_schema(properties.get(name))
        if isinstance(nested, dict) and inner is not None and _depth < _MAX_DEPTH:
            found.extend(compare(nested, inner, f"{path}.", _depth + 1))
    required = schema.get("required")
    for name in required if isinstance(required, list) else ():
        if isinstance(name, str) and name not in lines:
            found.append(Disagreement(f"{_prefix}{name}", "missing"))
    return sorted(set(found))


def describe(disagreements):
    """``(not allowed paths, missing paths)``: the paths of each kind, in order."""
    not_allowed = [d.path for d in disagreements if d.kind == "not_allowed"]
    missing = [d.path for d in disagreements if d.kind == "missing"]
    return not_allowed, missing
