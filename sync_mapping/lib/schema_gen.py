"""JSON Schema fragments (draft 2020-12) for generated data type schemas.

:func:`field_schema` maps an Odoo field type to the schema of its JSON value
(the codec of ``sync_base``): ``boolean`` -> boolean, ``integer`` and
``many2one`` (a record id) -> integer, ``float`` and ``monetary`` -> number,
``char``, ``text`` and ``html`` -> string, ``date`` and ``datetime`` ->
string with ``format``, ``binary`` -> base64 string, ``selection`` -> an
``enum`` of its keys, ``one2many`` and ``many2many`` -> array of ids, and
``json`` -> anything.  A nullable field's ``type`` becomes ``[type, "null"]``
(``null`` joins the ``enum`` of a selection); booleans, arrays and ``json``
are never made nullable.

:func:`object_schema` builds a closed object (``additionalProperties``
false), :func:`document_schema` a whole document (with ``$schema``),
:func:`array_of` and :func:`nullable` wrap a schema.  Every function returns
a new dict, which the caller may change.
"""

import copy

__all__ = ["DRAFT", "array_of", "document_schema", "field_schema", "nullable", "object_schema"]

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_SIMPLE = {
    "boolean": {"type": "boolean"},
    "integer": {"type": "integer"},
    "float": {"type": "number"},
    "monetary": {"type": "number"},
    "char": {"type": "string"},
    "text": {"type": "string"},
    "html": {"type": "string"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "binary": {"type": "string", "contentEncoding": "base64"},
    "json": {},
    "many2one": {"type": "integer"},
    "one2many": {"type": "array", "items": {"type": "integer"}},
    "many2many": {"type": "array", "items": {"type": "integer"}},
}


def field_schema(ftype: str, nullable: bool = True, selection_keys=None, description: str | None = None) -> dict:
    """The schema of a property holding an Odoo field of type ``ftype``.

    ``selection_keys`` are the keys of a selection field; ``description`` is
    added when given.  Raise ValueError for a field type with no schema.
    """
    if ftype == "selection":
        keys = list(selection_keys or [])
        schema = {"enum": keys + [None] if nullable else keys}
    elif ftype in _SIMPLE:
        schema = copy.deepcopy(_SIMPLE[ftype])
        if nullable and schema.get("type") not in (None, "boolean", "array"):
            schema["type"] = [schema["type"], "null"]
    else:
        raise ValueError(f"no JSON Schema for Odoo field type {ftype!r}; known types: selection, {', '.join(_SIMPLE)}")
    if description:
        schema["description"] = description
    return schema


def object_schema(properties: dict, required=(), title: str | None = None, description: str | None = None) -> dict:
    """A closed object schema: ``properties``, the sorted ``required`` names (omitted when none), no other keys.

    Raise ValueError when a required name is not a property.
    """
    unknown = sorted(set(required) - set(properties))
    if unknown:
        raise ValueError(f"required properties {unknown} are not among the properties {sorted(properties)}")
    schema = {"type": "object", "properties": dict(properties), "additionalProperties": False}
    if required:
        schema["required"] = sorted(set(required))
    if title:
        schema["title"] = title
    if description:
        schema["description"] = description
    return schema


def document_schema(properties: dict, required=(), title: str | None = None, description: str | None = None) -> dict:
    """A whole document's schema: :func:`object_schema` with ``"$schema"`` (draft 2020-12) first."""
    return {"$schema": DRAFT, **object_schema(properties, required, title, description)}


def array_of(schema: dict) -> dict:
    """The schema of an array whose items follow ``schema``."""
    return {"type": "array", "items": schema}


def nullable(schema: dict) -> dict:
    """``schema`` or ``null``: ``{"anyOf": [schema, {"type": "null"}]}``."""
    return {"anyOf": [schema, {"type": "null"}]}
