"""The compiled fast path agrees with jsonschema on every document."""

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sync_mapping_lib import schema_gen
from sync_mapping_lib.fastschema import compile_schema, compile_validator, iter_errors

DRAFT4 = "http://json-schema.org/draft-04/schema#"
DRAFT7 = "http://json-schema.org/draft-07/schema#"
DRAFT2020 = "https://json-schema.org/draft/2020-12/schema"

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False, allow_infinity=False, width=16)
    | st.sampled_from(["", "a", "2024-02-29", "29/02/2024", "x@example.com", "BE"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["name", "day", "qty", "lines", "parent", "kind", "extra"]), children, max_size=4),
    max_leaves=12,
)

SCHEMAS = [
    schema_gen.document_schema(
        {
            "name": schema_gen.field_schema("char", nullable=False),
            "day": schema_gen.field_schema("date"),
            "qty": schema_gen.field_schema("integer"),
            "kind": schema_gen.field_schema("selection", selection_keys=["a", "b"]),
            "lines": schema_gen.array_of(schema_gen.object_schema({"qty": schema_gen.field_schema("float")})),
            "parent": schema_gen.nullable(schema_gen.object_schema({"name": schema_gen.field_schema("char")})),
        },
        required=["name"],
    ),
    {"type": "object", "properties": {"name": {"type": "string", "minLength": 2, "maxLength": 3,
                                               "pattern": "^[A-Z]"}},
     "additionalProperties": {"type": "integer", "minimum": 0, "maximum": 3}},
    {"oneOf": [{"type": "number"}, {"type": "integer"}]},
    {"allOf": [{"type": ["array", "null"]}, {"items": {"const": 1}}]},
    {"enum": [1, True, "a", None]},
    {"enum": [[False], {"name": True}, [1], 0, [[None]]]},
    {"type": "array", "items": {"const": [False, {"qty": 1}]}},
    {"$schema": DRAFT4, "type": "object", "properties": {"name": {"const": "a"}},
     "additionalProperties": {"type": "integer", "maximum": 3, "exclusiveMaximum": True, "minimum": 0}},
    {"type": "object", "additionalProperties": {"$schema": DRAFT4, "type": ["integer", "string"]}},
]


def _reference(schema):
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.mark.parametrize("index", range(len(SCHEMAS)))
@settings(max_examples=300, deadline=None)
@given(document=JSON)
def test_agrees_with_jsonschema(index, document):
    reference = _reference(SCHEMAS[index])
    fast = compile_schema(SCHEMAS[index], reference.format_checker, type(reference))
    assert fast is not None
    assert fast(document) == reference.is_valid(document)


def test_known_cases():
    reference = _reference(SCHEMAS[0])
    fast = compile_schema(SCHEMAS[0], reference.format_checker)
    assert fast({"name": "x", "day": "2024-02-29", "qty": 2.0, "kind": None, "lines": [{"qty": 1}], "parent": None})
    assert not fast({"name": "x", "day": "29/02/2024"})
    assert not fast({"name": "x", "qty": True})
    assert not fast({"name": "x", "extra": 1})
    assert not fast({"day": None})


def test_unsupported_keywords_fall_back():
    assert compile_schema({"$ref": "#/$defs/x"}) is None
    assert compile_schema({"type": "object", "patternProperties": {"a": {}}}) is None
    assert compile_schema({"type": "decimal"}) is None


def _accepted(schema, document):
    """Whether serialization accepts ``document``: the pair and the calls sync.schema uses."""
    validator, fast = compile_validator(schema)
    return not list(iter_errors(validator, fast, document))


def _fast(schema):
    fast = compile_schema(schema)  # the class of a schema without $schema: 2020-12
    assert fast is not None
    return fast


@pytest.mark.parametrize(("schema", "document"), [
    ({"const": [False]}, [0]),
    ({"const": [True]}, [1]),
    ({"const": [0]}, [False]),
    ({"const": {"a": True}}, {"a": 1}),
    ({"const": {"a": [{"b": False}]}}, {"a": [{"b": 0}]}),
    ({"enum": [[False], "x"]}, [0]),
    ({"enum": [{"a": True}]}, {"a": 1}),
    ({"enum": [1]}, True),
    ({"enum": [False]}, 0),
    ({"enum": [0, 1]}, False),
])
def test_booleans_are_not_numbers_at_any_depth(schema, document):
    assert not _fast(schema)(document)
    assert not _accepted(schema, document)


@pytest.mark.parametrize(("schema", "document"), [
    ({"const": [1]}, [1.0]),
    ({"const": {"a": [1.0]}}, {"a": [1]}),
    ({"enum": [[False], {"a": True}]}, {"a": True}),
    ({"enum": ["x", 2]}, 2.0),
])
def test_numbers_equal_across_int_and_float(schema, document):
    assert _fast(schema)(document)
    assert _accepted(schema, document)


def test_draft04_rules_follow_its_schema():
    integer = {"$schema": DRAFT4, "type": "integer"}
    assert not _fast(integer)(1.0)  # draft-04 integers are not floats
    assert not _accepted(integer, 1.0)
    assert _accepted({"type": "integer"}, 1.0)  # a schema without $schema stays 2020-12

    exclusive = {"$schema": DRAFT4, "type": "number", "maximum": 5, "exclusiveMaximum": True,
                 "minimum": 1, "exclusiveMinimum": True}
    assert [_fast(exclusive)(n) for n in (1, 1.5, 4.9, 5)] == [False, True, True, False]
    assert [_accepted(exclusive, n) for n in (1, 1.5, 4.9, 5)] == [False, True, True, False]
    inclusive = {"$schema": DRAFT4, "maximum": 5, "exclusiveMaximum": False}
    assert _fast(inclusive)(5)

    # const is not a draft-04 keyword: jsonschema ignores it, and so must the fast path
    ignored = {"$schema": DRAFT4, "const": 1}
    assert _fast(ignored)(2)
    assert _accepted(ignored, 2)


def test_a_subschema_may_name_its_own_draft():
    schema = {"type": "object", "properties": {"n": {"$schema": DRAFT4, "type": "integer"}}}
    assert not _fast(schema)({"n": 1.0})
    assert not _accepted(schema, {"n": 1.0})
    assert _accepted(schema, {"n": 1})


def test_items_by_draft():
    tuple_form = {"$schema": DRAFT7, "items": [{"type": "integer"}], "additionalItems": False}
    assert _accepted(tuple_form, [1])
    assert not _accepted(tuple_form, ["a"])
    assert not _accepted(tuple_form, [1, 2])
    # prefixItems means nothing in draft-07: ignored
    assert _accepted({"$schema": DRAFT7, "prefixItems": [{"type": "integer"}]}, ["a"])

    prefix = {"$schema": DRAFT2020, "prefixItems": [{"type": "integer"}], "items": False}
    assert _accepted(prefix, [1])
    assert not _accepted(prefix, ["a"])
    assert not _accepted(prefix, [1, 2])
    # the draft-07 tuple form is no 2020-12 schema: refused by the meta-schema, never guessed at
    assert compile_schema({"$schema": DRAFT2020, "items": [{"type": "integer"}]}) is None
    with pytest.raises(jsonschema.SchemaError):
        jsonschema.Draft202012Validator.check_schema({"$schema": DRAFT2020, "items": [{"type": "integer"}]})


def test_draft_selection():
    assert type(compile_validator({"type": "object"})[0]) is jsonschema.Draft202012Validator
    assert type(compile_validator({"$schema": DRAFT4})[0]) is jsonschema.Draft4Validator
    assert type(compile_validator({"$schema": DRAFT7})[0]) is jsonschema.Draft7Validator
    # draft-03 is not compiled: jsonschema decides
    assert compile_validator({"$schema": "http://json-schema.org/draft-03/schema#", "type": "string"})[1] is None
