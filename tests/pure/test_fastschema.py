"""The compiled fast path agrees with jsonschema on every document."""

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sync_mapping_lib import schema_gen
from sync_mapping_lib.fastschema import compile_schema

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
]


def _reference(schema):
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.mark.parametrize("index", range(len(SCHEMAS)))
@settings(max_examples=300, deadline=None)
@given(document=JSON)
def test_agrees_with_jsonschema(index, document):
    reference = _reference(SCHEMAS[index])
    fast = compile_schema(SCHEMAS[index], reference.format_checker)
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
