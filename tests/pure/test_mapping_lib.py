import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sync_mapping_lib import schema_gen
from sync_mapping_lib.code_check import CodeCheckError, chain_text, check_expression, describe_write, record_chains
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
    with pytest.raises(TemplateError, match="not int"):
        paths(3)
    with pytest.raises(TemplateError, match="a template is a string"):
        is_json_template(None)


@pytest.mark.parametrize(
    "template, message",
    [
        ("ab {name", "unbalanced '{' at character 4: no closing '}' in '{name'"),
        ("ok }", "unbalanced '}' at character 4"),
        ("{a}}", "unbalanced '}' at character 4"),
        ("x{}", "empty placeholder {} at character 2"),
        ("{a b}", "'{a b}' at character 1 is not a field chain such as {partner_id.country_id.code}: 'a b'"),
        ("--{a.__init__}", "'{a.__init__}' at character 3 is not a field chain"),
    ],
)
def test_parse_messages_name_position_and_text(template, message):
    with pytest.raises(TemplateError) as info:
        parse(template)
    assert message in str(info.value)


def test_parse_merges_text_and_escapes():
    assert parse("a{{b}}c") == [("text", "a{b}c")]
    assert parse("{{{a}}}") == [("text", "{"), ("path", ("a",)), ("text", "}")]
    assert parse("") == []
    assert parse("{_a1.B_2}") == [("path", ("_a1", "B_2"))]


def test_render_text_mode():
    values = {("name",): "Azure", ("n",): 3, ("t",): True, ("f",): False, ("none",): None}
    assert render("{name}/{n}/{t}/{f}/{none}.", values.__getitem__) == "Azure/3/true//."
    assert not is_json_template("{name}")


def test_render_json_mode_escapes_values():
    template = '{{"name": "{name}", "country": "{country_id.code}"}}'
    values = {("name",): 'Az"ure\\', ("country_id", "code"): "BE"}
    assert is_json_template(template)
    assert render(template, values.__getitem__) == {"name": 'Az"ure\\', "country": "BE"}


def test_render_text_mode_numbers_and_no_json():
    values = {("a",): 1.5, ("b",): -2, ("c",): "x{y}"}
    assert render("{a} {b} {c}", values.__getitem__) == "1.5 -2 x{y}"
    assert render("no placeholder", lambda path: pytest.fail("nothing to resolve")) == "no placeholder"


def test_render_json_mode_brief_example():
    template = '{{"name": "{name}", "country": "{country_id.code}"}}'
    values = {("name",): 'Az"ure', ("country_id", "code"): "BE"}
    assert render(template, values.__getitem__) == {"name": 'Az"ure', "country": "BE"}


def test_render_json_mode_special_values():
    template = '{{"t": "{t}", "f": "{f}", "n": "{n}", "i": "{i}", "s": "{s}"}}'
    values = {("t",): True, ("f",): False, ("n",): None, ("i",): 7, ("s",): "a\nb\u2028\x00"}
    assert render(template, values.__getitem__) == {"t": "true", "f": "", "n": "", "i": "7", "s": "a\nb\u2028\x00"}


def test_render_passes_paths_as_tuples():
    seen = []
    assert render("{a.b}{c}", lambda path: seen.append(path) or "") == ""
    assert seen == [("a", "b"), ("c",)]


def test_render_refuses_bad_templates():
    with pytest.raises(TemplateError, match="unbalanced"):
        render("{a", lambda path: "")


def test_render_json_mode_invalid_json():
    with pytest.raises(TemplateError, match="not valid JSON"):
        render("{{not json}}", lambda path: "")


@given(st.text())
def test_render_json_mode_roundtrips_any_text(value):
    assert render('{{"v": "{x}", "w": ["{x}"]}}', lambda path: value) == {"v": value, "w": [value]}


@given(st.text(min_size=1))
def test_escaped_text_parses_back(text):
    escaped = text.replace("{", "{{").replace("}", "}}")
    assert parse(escaped) == [("text", text)]
    assert paths(escaped) == []
    assert is_json_template(escaped) == ("{" in text or "}" in text)


@given(st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,8}", fullmatch=True), min_size=1, max_size=4))
def test_field_chains_parse_back(segments):
    template = "<{" + ".".join(segments) + "}>"
    assert parse(template) == [("text", "<"), ("path", tuple(segments)), ("text", ">")]


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
    "'_' * 2",
    "2 * '_'",
    "'_' * len(record.name)",
    "'_'.join('a_')",
    "str.join('_', ['', '', 'class'])",
    "'_' + '_'.join(['', 'class__'])",
    "f'_{\"_\"}'",
    "f'{\"_\":_<2}'",
    "setattr(record, 'name', 1)",
    "delattr(record, 'name')",
    "globals()",
    "locals()",
    "vars(record)",
    "exec('1')",
    "compile('1', 'x', 'eval')",
    "record.open",
    "[r.env for r in record]",
    "sorted(record, key=lambda r, __k=1: r.id)",
    "record._cr.execute('DELETE FROM res_users')",
    "record.pool",
    "record.sudo().name",
    "record.with_user(1).name",
    "record.with_context(active_test=False).child_ids",
    "record.partner_id.write({'name': 'x'})",
    "record.unlink()",
    "record.copy()",
    "record._context",
    "[p._fields for p in record]",
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
        "'-' * 10",
        "record.name.replace('_', ' ')",
        "str.join('_', ['a', 'b'])",
        "f'{record.name}_{record.id}'",
        "'a_' 'b'",
        "{'key': record.name, 'when': datetime.date.today()}",
        "'é' + record.name",
        "record.name + '_' + record.ref",
        "'_'.join([record.name, record.ref])",
        "f'_{record.name}_'",
        "(record.name + '_') * 2",
    ],
)
def test_allowed_expressions(expression):
    assert check_expression(expression) is None


@pytest.mark.parametrize(
    "expression, message",
    [
        ("record.__class__", "the attribute '__class__' contains '__' at line 1, column 1"),
        ("__import__('os')", "the name '__import__' contains '__' at line 1, column 1"),
        ("(record.name +\n record.__class__)", "at line 2, column 2"),
        ("\n\n  record.__class__", "at line 3, column 3"),
        ("'é' + x.__y", "the attribute '__y' contains '__' at line 1, column 7"),
        ("x + '_' + '_class_' + '_'", "the string '…__class__' contains '__' at line 1, column 1"),
        ("'_'.join([x.name, '_a'])", "the string '…__a' contains '__' at line 1, column 1"),
        ("f'{x}_' '_'", "the string '…__' contains '__' at line 1, column 1"),
        ("'{0.__init__}'", "the string '{0.__init__}' contains '__' at line 1, column 1"),
        ("1 + getattr(record, 'x')", "the name 'getattr' is not allowed at line 1, column 5"),
        ("record.name.format_map({})", "the attribute 'format_map' is not allowed at line 1, column 1"),
        ("dict(__a=1)", "the keyword argument '__a' contains '__' at line 1, column 6"),
        ("(lambda __x: 1)(2)", "the argument name '__x' contains '__' at line 1, column 9"),
        (
            "'{0.__init__.__globals__[config][admin_passwd]}'.format(record)",
            "the attribute 'format' is not allowed at line 1, column 1",
        ),
    ],
)
def test_refusal_messages(expression, message):
    with pytest.raises(CodeCheckError) as info:
        check_expression(expression)
    assert message in str(info.value)


def test_deep_expressions_are_refused_or_checked():
    assert check_expression("+".join(["'a'"] * 800)) is None
    with pytest.raises(CodeCheckError, match="contains '__'"):
        check_expression("+".join(["'a'"] * 800 + ["'_'", "'_'"]))
    with pytest.raises(CodeCheckError, match="too deeply nested|syntax error"):
        check_expression("+".join(["'a'"] * 5000))
    with pytest.raises(CodeCheckError, match="syntax error"):
        check_expression("(" * 500 + "1" + ")" * 500)


def test_huge_constant_repetition_is_cheap():
    with pytest.raises(CodeCheckError, match="contains '__'"):
        check_expression("'_' * 10**12")
    with pytest.raises(CodeCheckError, match="contains '__'"):
        check_expression("'_' * 1000000000000")
    assert check_expression("'-' * 1000000000000") is None
    assert check_expression("f'{\"_\":>999999999}'") is None  # not folded: too wide, and no '__' in the source


@given(st.text())
def test_check_expression_never_crashes(text):
    try:
        assert check_expression(text) is None
    except CodeCheckError as exc:
        assert str(exc)


def test_syntax_errors_and_empty():
    with pytest.raises(CodeCheckError, match="syntax error at line 1"):
        check_expression("record.name +")
    with pytest.raises(CodeCheckError, match="empty"):
        check_expression("  ")
    with pytest.raises(CodeCheckError, match="syntax error"):
        check_expression("x = 1")  # a statement, not an expression
    with pytest.raises(CodeCheckError, match=r"syntax error at line 2, column \d+: "):
        check_expression("(record.name\n  +)")
    with pytest.raises(CodeCheckError, match="an expression is a string, not NoneType"):
        check_expression(None)


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
        ("child_ids", None, "child"),
        ("tag_ids", "", "tag"),
        ("bus_id", "2one", "bus"),
        ("bus_ids", "2many", "buses"),
        ("analysis_id", "2one", "analysis"),
        ("analysis_ids", "2many", "analyses"),
        ("tax_ids", "2many", "taxes"),
        ("taxes", "2one", "tax"),
        ("person_ids", "2many", "people"),
        ("sale_order_line_ids", "2many", "sale_order_lines"),
        ("invoice_line_ids", "2one", "invoice_line"),
        ("order_", "2many", "order_"),
    ],
)
def test_suggest_property_name(field, cardinality, expected):
    assert suggest_property_name(field, cardinality) == expected


def test_suggest_property_name_needs_a_name():
    with pytest.raises(ValueError, match="a field name is needed"):
        suggest_property_name("", "2one")
    with pytest.raises(ValueError, match="a field name is needed"):
        suggest_property_name(None, "2many")


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


@pytest.mark.parametrize(
    "ftype, expected, valid, invalid",
    [
        ("boolean", {"type": "boolean"}, [True, False], [None, 0, "true"]),
        ("integer", {"type": ["integer", "null"]}, [0, -3, None], [1.5, "1", True]),
        ("float", {"type": ["number", "null"]}, [1.5, 2, None], ["1.5", False]),
        ("monetary", {"type": ["number", "null"]}, [0.01, None], ["0.01"]),
        ("char", {"type": ["string", "null"]}, ["", "x", None], [1, False]),
        ("text", {"type": ["string", "null"]}, ["a\nb", None], [[]]),
        ("html", {"type": ["string", "null"]}, ["<p/>", None], [{}]),
        ("date", {"type": ["string", "null"], "format": "date"}, ["2024-02-29", None], ["2023-02-29", 20240229]),
        (
            "datetime",
            {"type": ["string", "null"], "format": "date-time"},
            ["2024-02-29T13:05:00Z", None],
            ["2024-02-29 13:05", 1],
        ),
        ("binary", {"type": ["string", "null"], "contentEncoding": "base64"}, ["aGk=", None], [b"hi", 1]),
        ("json", {}, [None, 1, "x", [1], {"a": None}], []),
        ("many2one", {"type": ["integer", "null"]}, [42, None], ["42", [42]]),
        ("one2many", {"type": "array", "items": {"type": "integer"}}, [[], [1, 2]], [None, [1.5], ["1"]]),
        ("many2many", {"type": "array", "items": {"type": "integer"}}, [[3]], [None, 3]),
    ],
)
def test_field_schema_of_every_type(ftype, expected, valid, invalid):
    schema = schema_gen.field_schema(ftype)
    assert schema == expected
    validator = _check(schema)
    for value in valid:
        assert validator.is_valid(value), value
    for value in invalid:
        assert not validator.is_valid(value), value


@pytest.mark.parametrize("ftype", ["integer", "float", "monetary", "char", "text", "html", "date", "datetime", "binary",
                                   "many2one"])
def test_field_schema_not_nullable(ftype):
    schema = schema_gen.field_schema(ftype, nullable=False)
    assert isinstance(schema["type"], str)
    assert not _check(schema).is_valid(None)


def test_field_schema_selection_and_description():
    schema = schema_gen.field_schema("selection", nullable=False, selection_keys=("draft", "done"), description="State")
    assert schema == {"enum": ["draft", "done"], "description": "State"}
    validator = _check(schema)
    assert validator.is_valid("done")
    assert not validator.is_valid(None)
    assert not validator.is_valid("cancel")
    assert _check(schema_gen.field_schema("selection", selection_keys=["a"])).is_valid(None)
    assert schema_gen.field_schema("boolean", description="Active") == {"type": "boolean", "description": "Active"}
    assert "description" not in schema_gen.field_schema("char")


def test_field_schemas_are_independent_copies():
    first = schema_gen.field_schema("many2many")
    first["items"]["type"] = "string"
    first["type"] = "object"
    assert schema_gen.field_schema("many2many") == {"type": "array", "items": {"type": "integer"}}


def test_object_schema_shape():
    props = {"b": schema_gen.field_schema("char"), "a": schema_gen.field_schema("integer")}
    assert schema_gen.object_schema(props) == {"type": "object", "properties": props, "additionalProperties": False}
    schema = schema_gen.object_schema(props, required=("b", "a", "b"), title="T", description="D")
    assert schema["required"] == ["a", "b"]
    assert (schema["title"], schema["description"]) == ("T", "D")
    assert "$schema" not in schema
    assert _check(schema).is_valid({"a": None, "b": None})
    assert not _check(schema).is_valid({"a": 1})
    with pytest.raises(ValueError, match=r"required properties \['c'\] are not among the properties \['a', 'b'\]"):
        schema_gen.object_schema(props, required=["a", "c"])


def test_document_schema_puts_draft_first():
    schema = schema_gen.document_schema({"x": schema_gen.field_schema("json")}, title="Doc")
    assert next(iter(schema)) == "$schema"
    assert schema["$schema"] == schema_gen.DRAFT == "https://json-schema.org/draft/2020-12/schema"
    assert jsonschema.validators.validator_for(schema) is jsonschema.Draft202012Validator
    assert _check(schema).is_valid({"x": {"any": ["thing"]}})


def test_array_of_and_nullable():
    inner = schema_gen.object_schema({"id": schema_gen.field_schema("integer", nullable=False)}, required=["id"])
    many = schema_gen.array_of(inner)
    one = schema_gen.nullable(inner)
    assert many == {"type": "array", "items": inner}
    assert one == {"anyOf": [inner, {"type": "null"}]}
    assert _check(many).is_valid([{"id": 1}, {"id": 2}])
    assert not _check(many).is_valid([{"id": None}])
    assert not _check(many).is_valid(None)
    assert _check(one).is_valid(None)
    assert _check(one).is_valid({"id": 1})
    assert not _check(one).is_valid({})


def test_unknown_field_type_is_named():
    with pytest.raises(ValueError, match="no JSON Schema for Odoo field type 'properties'"):
        schema_gen.field_schema("properties")


# --------------------------------------------------------------------------- what a code line reads


def _chains(expression):
    return {chain_text(chain) for chain in record_chains(expression)}


@pytest.mark.parametrize(
    "expression",
    [
        "record.toggle_active() or record.name",
        "record.action_archive()",
        "record.message_post(body='x')",
        "record.search([])",
        "record.search_count([])",
        "record.browse(2)",
        "record.read(['name'])",
        "record.name_search('a')",
        "record.filtered_domain([('a', '=', 1)])",
        "[lambda r: r.name][0](record)",
        "(x := record)",
        "record.mapped(lambda r, x=record: x.name)",
    ],
)
def test_acting_calls_and_hidden_lambdas_are_refused(expression):
    with pytest.raises(CodeCheckError, match="line 1, column"):
        record_chains(expression)


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("record.name.upper()", {"record", "record.name", "record.name.upper()"}),
        ("obj.user_ids.mapped('totp_secret')",
         {"record", "record.user_ids", "record.user_ids.mapped('totp_secret')"}),
        ("record['totp_secret']", {"record", "record['totp_secret']"}),
        ("[c.name for c in record.child_ids]", {"record", "record.child_ids", "record.child_ids[...]",
                                               "record.child_ids[...].name"}),
        ("record.child_ids.filtered(lambda c: c.user_ids.login)",
         {"record", "record.child_ids", "record.child_ids.filtered(lambda ...)", "record.child_ids[...]",
          "record.child_ids[...].user_ids", "record.child_ids[...].user_ids.login"}),
        ("record.child_ids.mapped(lambda c: c.parent_id).name",
         {"record", "record.child_ids", "record.child_ids.mapped(lambda ...)", "record.child_ids[...]",
          "record.child_ids[...].parent_id", "record.child_ids[...].parent_id.name"}),
        ("{}.get(1, record).password", {"record", "record.password"}),
        ("map(lambda u: u.password, record.user_ids)",
         {"record", "record.user_ids", "record.user_ids[...]", "record.user_ids[...].password"}),
        ("(lambda r: r.password)(record)", {"record", "record.password"}),
        ("(record.parent_id or record).password", {"record", "record.parent_id", "record.parent_id.password",
                                                   "record.password"}),
        ("system.code", {"system", "system.code"}),
        ("len(record.child_ids) + 1", {"record", "record.child_ids"}),
        ("datetime.date.today().isoformat()", set()),
        ("record.child_ids[record.index]", {"record", "record.index", "record.child_ids", "record.child_ids[...]"}),
    ],
)
def test_record_chains(expression, expected):
    assert _chains(expression) == expected


def test_record_chains_steps():
    chains = record_chains("record.child_ids[0].mapped('a.b') and record.child_ids[record.x]")
    assert ("record", ("attr", "child_ids"), ("item", "number", None), ("call", "mapped", ("path", "a.b"))) in chains
    assert ("record", ("attr", "child_ids"), ("item", "other", None)) in chains
    sorted_chain = ("record", ("attr", "child_ids"), ("call", "sorted", ("none",)))
    assert sorted_chain in record_chains("record.child_ids.sorted()")


@given(st.text())
def test_record_chains_never_crash(text):
    try:
        assert isinstance(record_chains(text), frozenset)
    except CodeCheckError as exc:
        assert str(exc)


@pytest.mark.parametrize(
    "query, message, expected",
    [
        (b'UPDATE "res_partner" SET "active" = false WHERE id = 7', "", "UPDATE on res_partner"),
        ('INSERT INTO "mail_message" ("body") VALUES (\'secret\')', "", "INSERT on mail_message"),
        ("DELETE FROM res_partner WHERE id = 1", "", "DELETE on res_partner"),
        ("SELECT nextval('ir_sequence_001')", "", "nextval on ir_sequence_001"),
        (None, "cannot execute nextval() in a read-only transaction", "nextval"),
        ("SELECT 1 FOR UPDATE", "cannot execute SELECT FOR UPDATE in a read-only transaction", "SELECT FOR UPDATE"),
        (None, None, "a write"),
    ],
)
def test_describe_write_names_statement_never_values(query, message, expected):
    described = describe_write(query, message)
    assert described == expected
    assert "secret" not in described
