"""JSON Schema fragments (draft 2020-12) for generated data type schemas."""

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


def field_schema(ftype, nullable=True, selection_keys=None, description=None):
    """The schema of a property holding an Odoo field of type ``ftype``."""
    if ftype == "selection":
        keys = list(selection_keys or [])
        schema = {"enum": keys + [None] if nullable else keys}
    elif ftype in _SIMPLE:
        schema = dict(_SIMPLE[ftype])
        if nullable and schema.get("type") not in (None, "boolean", "array"):
            schema["type"] = [schema["type"], "null"]
    else:
        raise ValueError(f"no JSON Schema for Odoo field type {ftype!r}")
    if description:
        schema["description"] = description
    return schema


def object_schema(properties, required=(), title=None, description=None):
    schema = {"type": "object", "properties": dict(properties), "additionalProperties": False}
    if required:
        schema["required"] = sorted(required)
    if title:
        schema["title"] = title
    if description:
        schema["description"] = description
    return schema


def document_schema(properties, required=(), title=None, description=None):
    """A whole document's schema: an object schema with ``$schema``."""
    return {"$schema": DRAFT, **object_schema(properties, required, title, description)}


def array_of(schema):
    return {"type": "array", "items": schema}


def nullable(schema):
    return {"anyOf": [schema, {"type": "null"}]}
