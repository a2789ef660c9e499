"""Lines against a data type's schema: what the admin is warned of (sync_mapping/lib/schema_lines.py)."""

import pytest
from sync_mapping_lib import schema_gen
from sync_mapping_lib.schema_lines import Disagreement, compare, describe


def _closed(properties, required=()):
    return schema_gen.document_schema({name: {"type": "string"} for name in properties}, required=required)


def test_lines_matching_a_generated_schema_agree():
    assert compare({"name": None, "email": None}, _closed(["name", "email"], ["name"])) == []


def test_a_property_of_a_closed_schema_that_no_line_has_is_not_a_disagreement():
    assert compare({"name": None}, _closed(["name", "email"])) == []


def test_a_property_a_closed_schema_does_not_allow():
    assert compare({"name": None, "country_code": None}, _closed(["name"])) == [
        Disagreement("country_code", "not_allowed")]


def test_a_required_property_no_line_fills():
    found = compare({"email": None}, _closed(["name", "email"], ["name"]))
    assert found == [Disagreement("name", "missing")]
    assert describe(found) == ([], ["name"])


def test_an_open_schema_allows_any_property_and_a_false_property_none():
    schema = {"type": "object", "properties": {"secret": False}}
    assert compare({"anything": None, "secret": None}, schema) == [Disagreement("secret", "not_allowed")]
    assert compare({"x": None}, {"type": "object", "unevaluatedProperties": False}) == [
        Disagreement("x", "not_allowed")]


def test_pattern_properties_let_matching_names_in():
    schema = {"type": "object", "patternProperties": {"^x_": {}}, "additionalProperties": False}
    assert compare({"x_note": None, "note": None}, schema) == [Disagreement("note", "not_allowed")]


@pytest.mark.parametrize("wrap", [schema_gen.nullable, schema_gen.array_of, lambda s: s])
def test_nested_objects_are_compared_through_what_generated_schemas_hold(wrap):
    inner = schema_gen.object_schema({"code": {"type": "string"}}, required=["code"])
    schema = schema_gen.document_schema({"name": {}, "country": wrap(inner)})
    found = compare({"name": None, "country": {"name": None}}, schema)
    assert found == [Disagreement("country.code", "missing"), Disagreement("country.name", "not_allowed")]
    assert describe(found) == (["country.name"], ["country.code"])


def test_what_is_not_plainly_an_object_is_not_followed():
    schema = {"type": "object", "properties": {"country": {"$ref": "#/$defs/country"},
                                               "tags": {"allOf": [{"type": "object", "required": ["x"]}]}}}
    assert compare({"country": {"name": None}, "tags": {"y": None}}, schema) == []


def test_a_bad_pattern_or_odd_keywords_say_nothing_rather_than_something_false():
    schema = {"type": "object", "patternProperties": {"(": {}}, "additionalProperties": False,
              "required": "name", "properties": []}
    assert compare({"anything": None}, schema) == []


def test_what_is_not_a_schema_is_refused():
    with pytest.raises(TypeError, match="takes the lines as a dict"):
        compare({"name": None}, True)
    with pytest.raises(TypeError, match="takes the lines as a dict"):
        compare(["name"], {})
