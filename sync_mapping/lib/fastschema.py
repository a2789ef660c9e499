"""A compiled fast path for the JSON Schema subset that generated schemas use.

jsonschema walks a schema for every document, which costs more than
serializing the document.  :func:`compile_schema` turns a schema that uses
only the keywords below into one Python predicate, built once per schema;
it returns ``None`` for any other schema, and callers then use jsonschema.
The predicate answers only "valid or not": when it says no, callers ask
jsonschema for the messages, so both always agree on the messages and the
fast path never accepts a document that jsonschema would refuse.

Supported: ``type``, ``enum``, ``const``, ``properties``, ``required``,
``additionalProperties`` (boolean or schema), ``items`` (schema),
``anyOf``, ``allOf``, ``oneOf``, ``minLength``, ``maxLength``,
``minimum``, ``maximum``, ``pattern``, ``format`` (through the given
format checker) and the annotations (``$schema``, ``title``,
``description``, ``contentEncoding``, ``default``, ``examples``, ``$comment``).
"""

import math
import re

__all__ = ["compile_schema"]

ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "contentEncoding", "contentMediaType", "default",
                         "examples", "$comment", "readOnly", "writeOnly", "deprecated"})


class _Unsupported(Exception):
    pass


def _is_type(name, value):
    if name == "string":
        return isinstance(value, str)
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or isinstance(value, float) and math.isfinite(value) and value.is_integer()
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    raise _Unsupported(name)


_PLAIN_TYPES = {"string": str, "null": type(None), "object": dict, "array": list, "boolean": bool}


def _type_check(names):
    for name in names:
        _is_type(name, None)  # raises _Unsupported for an unknown type name
    plain = tuple(_PLAIN_TYPES[n] for n in names if n in _PLAIN_TYPES)
    special = [n for n in names if n not in _PLAIN_TYPES]
    if not special:
        return lambda v: isinstance(v, plain)
    return lambda v: isinstance(v, plain) or any(_is_type(n, v) for n in special)


def _equal(a, b):
    # JSON equality: 1 == 1.0 but True != 1
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _compile(schema, format_checker):  # noqa: C901 - one branch per keyword, kept together on purpose
    if schema is True or schema == {}:
        return lambda value: True
    if schema is False:
        return lambda value: False
    if not isinstance(schema, dict):
        raise _Unsupported(schema)
    checks = []
    for key, arg in schema.items():
        if key in ANNOTATIONS or key in ("properties", "additionalProperties", "required"):
            continue
        if key == "type":
            checks.append(_type_check([arg] if isinstance(arg, str) else list(arg)))
        elif key == "enum":
            checks.append(lambda v, options=list(arg): any(_equal(v, o) for o in options))
        elif key == "const":
            checks.append(lambda v, const=arg: _equal(v, const))
        elif key == "items":
            item = _compile(arg, format_checker)
            checks.append(lambda v, item=item: not isinstance(v, list) or all(item(i) for i in v))
        elif key in ("anyOf", "allOf", "oneOf"):
            subs = [_compile(sub, format_checker) for sub in arg]
            if key == "anyOf":
                checks.append(lambda v, subs=subs: any(s(v) for s in subs))
            elif key == "allOf":
                checks.append(lambda v, subs=subs: all(s(v) for s in subs))
            else:
                checks.append(lambda v, subs=subs: sum(1 for s in subs if s(v)) == 1)
        elif key == "minLength":
            checks.append(lambda v, n=arg: not isinstance(v, str) or len(v) >= n)
        elif key == "maxLength":
            checks.append(lambda v, n=arg: not isinstance(v, str) or len(v) <= n)
        elif key == "minimum":
            checks.append(lambda v, n=arg: not _is_type("number", v) or v >= n)
        elif key == "maximum":
            checks.append(lambda v, n=arg: not _is_type("number", v) or v <= n)
        elif key == "pattern":
            regex = re.compile(arg)
            checks.append(lambda v, r=regex: not isinstance(v, str) or r.search(v) is not None)
        elif key == "format":
            if format_checker is None:
                continue
            checks.append(lambda v, f=arg: format_checker.conforms(v, f))
        else:
            raise _Unsupported(key)
    if "properties" in schema or "additionalProperties" in schema or "required" in schema:
        checks.append(_compile_object(schema, format_checker))
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


def _compile_object(schema, format_checker):
    properties = {name: _compile(sub, format_checker) for name, sub in schema.get("properties", {}).items()}
    required = tuple(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    extra_check = None if extra is True else _compile(extra, format_checker)

    def check(value):
        if not isinstance(value, dict):
            return True
        for name in required:
            if name not in value:
                return False
        for name, item in value.items():
            prop = properties.get(name)
            if prop is not None:
                if not prop(item):
                    return False
            elif extra_check is not None and not extra_check(item):
                return False
        return True

    return check


def compile_schema(schema, format_checker=None):
    """A predicate ``valid(document) -> bool`` for ``schema``, or ``None`` when it uses other keywords."""
    try:
        return _compile(schema, format_checker)
    except (_Unsupported, TypeError, re.error):
        return None
