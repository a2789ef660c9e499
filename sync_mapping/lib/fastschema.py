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
``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``,
``pattern`` and ``format`` (through the given format checker).

Each (sub)schema is compiled with the rules of the draft jsonschema would use
for it: the one its ``$schema`` names, else its parent's, else 2020-12.
Keywords that draft does not know are ignored, as jsonschema ignores them
(``const`` in draft-04, annotations such as ``title``); draft-04 integers are
ints only and its ``exclusiveMaximum`` is a boolean modifier of
``maximum``.  An unknown ``$schema`` gets the parent's draft, as in
jsonschema; draft-03 schemas are left to jsonschema.

:func:`compile_validator` is the validator pair serialization uses, and
:func:`iter_errors` the way it asks them.
"""

import math
import operator
import re

import jsonschema

__all__ = ["DEFAULT_VALIDATOR", "compile_schema", "compile_validator", "iter_errors"]

# A schema without $schema is validated as 2020-12; named here rather than
# left to jsonschema's "latest", so that upgrading jsonschema does not change it.
DEFAULT_VALIDATOR = jsonschema.validators.Draft202012Validator

# Drafts whose keywords this module implements; draft-03 (types as schemas,
# boolean "required", ...) is not one of them.
_DRAFTS = (
    jsonschema.validators.Draft4Validator,
    jsonschema.validators.Draft6Validator,
    jsonschema.validators.Draft7Validator,
    jsonschema.validators.Draft201909Validator,
    jsonschema.validators.Draft202012Validator,
)


class _Unsupported(Exception):
    pass


def _is_type(name, value, float_integers=True):
    if name == "string":
        return isinstance(value, str)
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (
            float_integers and isinstance(value, float) and math.isfinite(value) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    raise _Unsupported(name)


_PLAIN_TYPES = {"string": str, "null": type(None), "object": dict, "array": list, "boolean": bool}


def _type_check(names, float_integers):
    if not all(isinstance(n, str) for n in names):
        raise _Unsupported(names)
    for name in names:
        _is_type(name, None)  # raises _Unsupported for an unknown type name
    plain = tuple(_PLAIN_TYPES[n] for n in names if n in _PLAIN_TYPES)
    special = [n for n in names if n not in _PLAIN_TYPES]
    if not special:
        return lambda v: isinstance(v, plain)
    return lambda v: isinstance(v, plain) or any(_is_type(n, v, float_integers) for n in special)


_CONTAINERS = (list, tuple, dict)


def _equal(a, b):
    """JSON equality at every depth, as jsonschema's: 1 == 1.0, but false != 0 and true != 1."""
    if a is b:
        return True
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return len(a) == len(b) and all(key in b and _equal(x, b[key]) for key, x in a.items())
    if isinstance(a, bool) or isinstance(b, bool):
        return False  # the same boolean is caught by "a is b" above
    return a == b


def _const_check(const):
    if isinstance(const, bool) or const is None:
        return lambda v: v is const
    if isinstance(const, str):
        return lambda v: v == const
    if isinstance(const, (int, float)):
        return lambda v: v == const and not isinstance(v, (bool, str))
    return lambda v: _equal(v, const)


def _enum_check(options):
    if not isinstance(options, (list, tuple)):
        raise _Unsupported(options)
    # Scalars are looked up in a set; booleans are kept apart from it, since
    # the set would take True for 1 and False for 0.
    bools = tuple(o for o in options if isinstance(o, bool))
    scalars = frozenset(o for o in options if not isinstance(o, (bool, *_CONTAINERS)))
    containers = [o for o in options if isinstance(o, _CONTAINERS)]

    def check(v):
        if isinstance(v, bool):
            return any(v is o for o in bools)
        if isinstance(v, _CONTAINERS):
            return any(_equal(v, o) for o in containers)
        try:
            return v in scalars
        except TypeError:  # an unhashable value of no JSON type
            return any(_equal(v, o) for o in options)

    return check


def _number_check(compare, bound):
    if isinstance(bound, bool) or not isinstance(bound, (int, float)):
        raise _Unsupported(bound)
    return lambda v: not _is_type("number", v) or compare(v, bound)


def _compile(schema, format_checker, cls):  # noqa: C901 - one branch per keyword, kept together on purpose
    if schema is True or schema == {}:
        return lambda value: True
    if schema is False:
        return lambda value: False
    if not isinstance(schema, dict):
        raise _Unsupported(schema)
    # As jsonschema's evolve(): a subschema's own $schema switches the draft.
    cls = jsonschema.validators.validator_for(schema, default=cls)
    if cls not in _DRAFTS:
        raise _Unsupported(cls)
    known = cls.VALIDATORS
    float_integers = cls.TYPE_CHECKER.is_type(1.0, "integer")
    # draft-04: exclusiveMaximum/exclusiveMinimum are booleans that modify maximum/minimum
    legacy_exclusive = "exclusiveMaximum" not in known
    checks = []
    for key, arg in schema.items():
        if key not in known or key in ("properties", "additionalProperties", "required"):
            continue  # jsonschema ignores keywords its draft does not define
        if key == "type":
            checks.append(_type_check([arg] if isinstance(arg, str) else list(arg), float_integers))
        elif key == "enum":
            checks.append(_enum_check(arg))
        elif key == "const":
            checks.append(_const_check(arg))
        elif key == "items":
            if isinstance(arg, list):
                raise _Unsupported(key)  # the tuple form of draft-04..2019-09
            item = _compile(arg, format_checker, cls)
            checks.append(lambda v, item=item: not isinstance(v, list) or all(item(i) for i in v))
        elif key in ("anyOf", "allOf", "oneOf"):
            subs = [_compile(sub, format_checker, cls) for sub in arg]
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
            exclusive = legacy_exclusive and schema.get("exclusiveMinimum", False)
            checks.append(_number_check(operator.gt if exclusive else operator.ge, arg))
        elif key == "maximum":
            exclusive = legacy_exclusive and schema.get("exclusiveMaximum", False)
            checks.append(_number_check(operator.lt if exclusive else operator.le, arg))
        elif key == "exclusiveMinimum":
            checks.append(_number_check(operator.gt, arg))
        elif key == "exclusiveMaximum":
            checks.append(_number_check(operator.lt, arg))
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
        checks.append(_compile_object(schema, format_checker, cls))
    if not checks:
        return lambda value: True
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


def _compile_object(schema, format_checker, cls):
    properties = {name: _compile(sub, format_checker, cls) for name, sub in schema.get("properties", {}).items()}
    required = tuple(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    extra_check = None if extra is True else _compile(extra, format_checker, cls)

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


def compile_schema(schema, format_checker=None, validator_class=DEFAULT_VALIDATOR):
    """A predicate ``valid(document) -> bool`` for ``schema``, or ``None`` when it uses other keywords.

    ``validator_class`` is the draft of a schema without ``$schema``; the
    predicate never accepts a document that this jsonschema class (with the
    same format checker) refuses.
    """
    try:
        return _compile(schema, format_checker, validator_class)
    except (_Unsupported, TypeError, re.error):
        return None


def compile_validator(schema):
    """``(jsonschema validator, fast predicate or None)`` for a parsed schema, in the draft its ``$schema`` names.

    Formats are asserted (a date property refuses "29/02/2024"), not only
    annotations as the 2019-09 and 2020-12 drafts have it by default.
    """
    cls = jsonschema.validators.validator_for(schema, default=DEFAULT_VALIDATOR)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validator, compile_schema(schema, validator.format_checker, cls)


def iter_errors(validator, fast, document):
    """jsonschema's errors for ``document`` (none when valid); the fast predicate spares the walk of a valid one."""
    if fast is not None and fast(document):
        return iter(())
    return validator.iter_errors(document)
