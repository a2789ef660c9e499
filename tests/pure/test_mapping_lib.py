import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sync_mapping_lib import schema_gen
from sync_mapping_lib.code_check import CodeCheckError, check_expression
from sync_mapping_lib.naming import suggest_property_name
from sync_mapping_lib.template import TemplateError, is_json_template, parse, paths, render

# --------------------------------------------------------------------------- templates


def test_parse_tokens_and_paths():
    assert parse("{name} ({partner_id.country_id.code})") == [
        ("path", ("name",)),
        ("text", " ("),
        ("path", ("partner_id", "country_id", "code")),
        ("text", ")"),
    ]
    assert parse("{{literal}}") == [("text", "{literal}")]
    assert paths("{a}-{b.c}-{a}") == [("a",), ("b", "c")]


@pytest.mark.parametrize(
    "template, message",
    [
        ("{name", "unbalanced '{' at character 1"),
        ("name}", "unbalanced '}' at character 5"),
        ("{}", "empty placeholder"),
        ("{0}", "not a field chain"),
        ("{a!r}", "not a field chain"),
        ("{a:>10}", "not a field chain"),
        ("{a[0]}", "not a field chain"),
        ("{a.}", "not a field chain"),
        ("{.a}", "not a field chain"),
        ("{a b}", "not a field chain"),
        ("{__class__}", "not a field chain"),
        ("{a.__init__}", "not a field chain"),
        ("x {a {b}", "unbalanced '{' at character 3"),
    ],
)
def test_parse_refuses(template, message):
    with pytest.raises(TemplateError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse(template)


def test_parse_refuses_non_strings():
    with pytest.raises(TemplateError, match="a template is a string"):
        parse(None)


def test_render_text_mode():
    values = {("name",): "Azure", ("n",): 3, ("t",): True, ("f",): False, ("none",): None}
    assert render("{name}/{n}/{t}/{f}/{none}.", values.__getitem__) == "Azure/3/true//."
    assert not is_json_template("{name}")


def test_render_json_mode_escapes_values():
    template = '{{"name": "{name}", "country": "{country_id.code}"}}'
    values = {("name",): 'Az"ure\\', ("country_id", "code"): "BE"}
    assert is_json_template(template)
    assert render(template, values.__getitem__) == {"name": 'Az"ure\\', "country": "BE"}


def test_render_json_mode_invalid_json():
    with pytest.raises(TemplateError, match="not valid JSON"):
        render("{{not json}}", lambda path: "")


@given(st.text())
def test_parse_never_crashes(text):
    try:
        tokens = parse(text)
    except TemplateError:
        return
    for kind, value in tokens:
        assert kind in ("text", "path")
        if kind == "path":
            assert all("__" not in segment for segment in value)


# --------------------------------------------------------------------------- code check

REFUSED = [
    "__import__('os').system('id')",
    "record.__class__",
    "'{0.__init__.__globals__[config][admin_passwd]}'.format(record)",
    "'{0._' '_init__}'.format(record)",
    "'_' + '_class_' + '_'",
    "''.join(['_', '_class__'])",
    "'_'.join(['', '', 'class'])",
    "'{0}'.format_map(record)",
    "record.name.format(1)",
    "record.env['res.users']",
    "env['res.users']",
    "open('/etc/passwd').read()",
    "getattr(record, 'name')",
    "eval('1')",
    "type(record)",
    "(lambda __x: __x)(1)",
    "dict(__a=1)",
    "f'{record.name}__'",
    "b'__'",
]


@pytest.mark.parametrize("expression", REFUSED)
def test_refused_expressions(expression):
    with pytest.raises(CodeCheckError, match="line 1, column"):
        check_expression(expression)


@pytest.mark.parametrize(
    "expression",
    [
        "record.name.upper()",
        "record.partner_id.country_id.code or ''",
        "[l.product_id.default_code for l in record.order_line]",
        "round(record.amount_total, 2)",
        "'%s-%s' % (record.id, record.name)",
        "'_'.join([record.name, 'x'])",
        "obj.name",
    ],
)
def test_allowed_expressions(expression):
    assert check_expression(expression) is None


def test_syntax_errors_and_empty():
    with pytest.raises(CodeCheckError, match="syntax error at line 1"):
        check_expression("record.name +")
    with pytest.raises(CodeCheckError, match="empty"):
        check_expression("  ")
    with pytest.raises(CodeCheckError, match="syntax error"):
        check_expression("x = 1")  # a statement, not an expression


# --------------------------------------------------------------------------- naming


@pytest.mark.parametrize(
    "field, cardinality, expected",
    [
        ("child_ids", "2many", "children"),
        ("category_id", "2many", "categories"),
        ("order_line", "2many", "order_lines"),
        ("tag_ids", "2many", "tags"),
        ("line_ids", "2many", "lines"),
        ("lines", "2many", "lines"),
        ("partner_id", "2one", "partner"),
        ("country_id", "2one", "country"),
        ("children", "2one", "child"),
        ("email", "", "email"),
        ("country_id", None, "country"),
    ],
)
def test_suggest_property_name(field, cardinality, expected):
    assert suggest_property_name(field, cardinality) == expected


def test_suggest_property_name_needs_a_name():
    with pytest.raises(ValueError, match="a field name is needed"):
        suggest_property_name("", "2one")


# --------------------------------------------------------------------------- schema generation


def _check(schema):
    jsonschema.validators.validator_for(schema).check_schema(schema)
    return jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker())


def test_field_schemas():
    assert schema_gen.field_schema("char") == {"type": ["string", "null"]}
    assert schema_gen.field_schema("char", nullable=False) == {"type": "string"}
    assert schema_gen.field_schema("boolean") == {"type": "boolean"}
    assert schema_gen.field_schema("selection", selection_keys=["a", "b"]) == {"enum": ["a", "b", None]}
    assert schema_gen.field_schema("many2many")["items"] == {"type": "integer"}
    assert schema_gen.field_schema("date", description="Day")["description"] == "Day"
    with pytest.raises(ValueError, match="'reference'"):
        schema_gen.field_schema("reference")


def test_document_schema_validates_instances():
    schema = schema_gen.document_schema(
        {
            "name": schema_gen.field_schema("char", nullable=False),
            "day": schema_gen.field_schema("date"),
            "amount": schema_gen.field_schema("monetary"),
            "lines": schema_gen.array_of(schema_gen.object_schema({"qty": schema_gen.field_schema("float")})),
            "parent": schema_gen.nullable(schema_gen.object_schema({"name": schema_gen.field_schema("char")})),
        },
        required=["name"],
        title="Doc",
    )
    assert schema["$schema"] == schema_gen.DRAFT
    validator = _check(schema)
    assert validator.is_valid({"name": "x", "day": "2024-02-29", "amount": 1.5, "lines": [{"qty": 2}], "parent": None})
    assert not validator.is_valid({"day": None})  # name is required
    assert not validator.is_valid({"name": "x", "extra": 1})  # additionalProperties
    assert not validator.is_valid({"name": "x", "lines": [{"qty": "2"}]})
    assert not validator.is_valid({"name": "x", "day": "29/02/2024"})  # format checked
