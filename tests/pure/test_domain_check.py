"""The static check of data type domains: plain values and date helpers only, messages that name the part."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from sync_mapping_lib.domain_check import DomainCheckError, check_domain, domain_paths, plain_context

NOW = datetime.datetime(2024, 5, 6, 7, 8, 9)

ACCEPTED = [
    "[]",
    "",
    "  ",
    "[('is_company', '=', True)]",
    "(('is_company', '=', True),)",
    "[('company_id', 'in', company_ids)]",
    "[('company_id', 'in', company_ids + [False])]",
    "[('user_id', '=', uid)]",
    "[('user_id', '=', user_id), ('company_id', '=', company_id)]",
    "['|', ('name', 'ilike', 'a'), '!', ('ref', '=', False)]",
    "['&', ('a', '=', 1), ('b', 'not in', [1, -2, 3.5, None, 'x'])]",
    "[(1, '=', 1)]",
    "[(0, '=', 1)]",
    "[('create_date', '>=', (context_today() - relativedelta(days=30)).strftime('%Y-%m-%d'))]",
    "[('create_date', '>=', now - relativedelta(months=1, day=1))]",
    "[('date', '<', today + datetime.timedelta(weeks=2))]",
    "[('date', '=', datetime.date(2024, 1, 31))]",
    "[('date', '=', datetime.datetime(2024, 1, 31, 12, 0).date())]",
    "[('write_date', '>=', datetime.datetime.combine(context_today(), datetime.time(0, 0, 0)))]",
    "[('date', '=', time.strftime('%Y-%m-01'))]",
    "[('date', '=', now.replace(hour=0, minute=0).isoformat())]",
    "[('color', '=', now.month), ('color', '!=', today.weekday())]",
    "[('partner_id', 'any', [('country_id.code', '=', 'BE')])]",
    "[('active', '=', not False)]",
]

REFUSED = [
    # the three exploits
    ("[('id', '!=', user.env.ref('base.group_system').write({'users': [(4, user.id)]}) and 0)]",
     "the name 'user' is not allowed", "line 1, column 15"),
    ("[(user.env['ir.config_parameter'].get_param('database.secret'), '=', 1)]",
     "the name 'user' is not allowed", "line 1, column 3"),
    ("[('name', '=', '{0.env.cr._cnx.info.password}'.format(now))]",
     "the attribute 'format' is not allowed", "line 1, column 16"),
    # other names and attributes
    ("[('a', '=', env)]", "the name 'env' is not allowed", "column 13"),
    ("[('a', '=', self)]", "the name 'self' is not allowed", "column 13"),
    ("[('a', '=', __import__('os'))]", "the name '__import__' is not allowed", "column 13"),
    ("[('a', '=', now.__class__)]", "the attribute '__class__' is not allowed", "column 13"),
    ("[('a', '=', now.tzinfo)]", "the attribute 'tzinfo' is not allowed", "column 13"),
    ("[('a', '=', now._private)]", "the attribute '_private' is not allowed", "column 13"),
    ("[('a', '=', 'x'.upper())]", "the method 'upper' is not allowed on a string", "column 13"),
    ("[('a', '=', 'x'.format_map({}))]", "the attribute 'format_map' is not allowed", "column 13"),
    ("[('a', '=', now.astimezone())]", "the method 'astimezone' is not allowed on a datetime", "column 13"),
    ("[('a', '=', today.time())]", "the method 'time' is not allowed on a date", "column 13"),
    ("[('a', '=', company_ids.copy())]", "the attribute 'copy' is not allowed", "column 13"),
    ("[('a', '=', datetime.datetime.now())]", "datetime.datetime.now is not an allowed helper", "column 13"),
    ("[('a', '=', datetime.sys)]", "datetime.sys is not called, or not allowed", "column 13"),
    ("[('a', '=', time.sleep(9))]", "time.sleep is not an allowed helper", "column 13"),
    ("[('a', '=', relativedelta)]", "the helper 'relativedelta' is used only", "column 13"),
    ("[('a', '=', relativedelta(1))]", "keyword arguments only", "column 13"),
    ("[('a', '=', relativedelta(dt1=now))]", "the keyword argument 'dt1' is not allowed", "column 31"),
    ("[('a', '=', relativedelta(days='1'))]", "must be a number, not a string", "column 32"),
    ("[('a', '=', relativedelta(**{}))]", "'**' is not allowed", "column 29"),
    ("[('a', '=', context_today(1))]", "context_today() takes no argument", "column 13"),
    ("[('a', '=', uid())]", "the name 'uid' is not a helper that may be called", "column 13"),
    ("[('a', '=', (lambda: 1)())]", "a lambda is not a helper that may be called", "column 14"),
    # forms of expressions
    ("[('a', '=', company_ids[0])]", "a subscript is not allowed", "column 13"),
    ("[('a', '=', 1 and 2)]", "'and'/'or' is not allowed", "column 13"),
    ("[('a', '=', 1 if True else 2)]", "a conditional expression is not allowed", "column 13"),
    ("[('a', '=', uid == 1)]", "a comparison is not allowed", "column 13"),
    ("[('a', 'in', [x for x in company_ids])]", "the name 'x' is not allowed", "column 15"),
    ("[('a', '=', {'k': 1})]", "a dict is not allowed", "column 13"),
    ("[('a', '=', f'{uid}')]", "an f-string is not allowed", "column 13"),
    ("[('a', '=', 'x' * 9)]", "only + and - are allowed", "column 13"),
    ("[('a', '=', 10 ** 10)]", "only + and - are allowed", "column 13"),
    ("[('a', '=', 'x' + 1)]", "+ of a string and a number is not allowed", "column 13"),
    ("[('a', '=', -'x')]", "does not apply to a string", "column 13"),
    ("[('a', '=', b'x')]", "a bytes constant is not allowed", "column 13"),
    # the shape of the domain
    ("{'a': 1}", "a domain is a list of terms", "line 1, column 1"),
    ("uid", "a domain is a list of terms", "line 1, column 1"),
    ("['name']", "the term 'name' is not '&', '|' or '!'", "column 2"),
    ("[('a', '=')]", "a leaf is (field, operator, value), not 2 items", "column 2"),
    ("[('a', '==', 1)]", "'==' (leaf 1) is not a domain operator", "column 8"),
    ("[('a', uid, 1)]", "the operator of leaf 1 must be written as a string", "column 8"),
    ("[('a' + 'b', '=', 1)]", "the field of leaf 1 must be written as a string", "column 3"),
    ("[('a..b', '=', 1)]", "the field of leaf 1 must be written as a string", "column 3"),
    ("[('a', '=', 1), ('b b', '=', 1)]", "the field of leaf 2 must be written", "column 18"),
    ("['|', ('a', '=', 1)]", "lack 1 term(s)", "line 1, column 1"),
    ("['!', '&', ('a', '=', 1)]", "lack 1 term(s)", "line 1, column 1"),
    ("[('a', 'any', uid)]", "a domain is a list of terms", "column 15"),
    ("[('a', '=', 1),\n  ('b', '=', user)]", "the name 'user' is not allowed", "line 2, column 14"),
    ("  [('a', '=', env)]", "the name 'env'", "line 1, column 15"),
    ("[('a', '=', 1)", "syntax error at line 1", ""),
]


@pytest.mark.parametrize("source", ACCEPTED)
def test_plain_domains_are_accepted_and_evaluate(source):
    check_domain(source)
    # they evaluate with the plain context alone (safe_eval adds its own checks, not tested here)
    value = eval(source.strip() or "[]", {}, plain_context(7, 1, [1, 3], NOW))  # noqa: S307
    assert isinstance(value, (list, tuple))


@pytest.mark.parametrize(("source", "message", "where"), REFUSED)
def test_refused_domains_name_the_part_and_where(source, message, where):
    with pytest.raises(DomainCheckError) as info:
        check_domain(source)
    assert message in str(info.value)
    assert where in str(info.value)


def test_a_refusal_holds_no_evaluated_value():
    # nothing is evaluated: the message is made of the source's parts only
    with pytest.raises(DomainCheckError) as info:
        check_domain("[(user.env['ir.config_parameter'].get_param('database.secret'), '=', 1)]")
    assert "database.secret" not in str(info.value)


def test_not_a_string_is_refused():
    with pytest.raises(DomainCheckError, match="a domain is a string, not list"):
        check_domain([("a", "=", 1)])


def test_a_huge_source_is_refused():
    with pytest.raises(DomainCheckError, match="longer than"):
        check_domain("[" + "('a', '=', 1)," * 5000 + "]")


def test_deep_nesting_is_refused_not_crashed():
    with pytest.raises(DomainCheckError):
        check_domain("[('a', '=', " + "[" * 5000 + "]" * 5000 + ")]")


def test_leaves_and_paths():
    source = "['|', ('partner_id.name', '=', 'x'), ('user_ids', 'any', [('partner_id.email', '=', 1), (1, '=', 1)])]"
    with pytest.raises(DomainCheckError, match="always true or false leaf is not allowed in 'any'"):
        check_domain(source)
    source = "['|', ('partner_id.name', '=', 'x'), ('user_ids', 'any', [('partner_id.email', '=', 1)]), (1, '=', 1)]"
    leaves = check_domain(source)
    assert [(leaf.number, leaf.path, leaf.term) for leaf in leaves] == [
        (1, "partner_id.name", 1), (2, "user_ids", 2), (3, "user_ids.partner_id.email", 2), (4, None, 3)]
    assert leaves[0].where == "line 1, column 7"
    assert domain_paths(source) == ["partner_id.name", "user_ids", "user_ids.partner_id.email"]
    assert domain_paths("[('a', '=', 1), ('a', '!=', 2)]") == ["a"]
    assert domain_paths("") == []


def test_plain_context():
    context = plain_context(7, 1, [1, 3], NOW)
    assert context["uid"] == context["user_id"] == 7
    assert context["company_id"] == 1
    assert context["company_ids"] == [1, 3]
    assert context["now"] == NOW
    assert context["today"] == context["context_today"]() == datetime.date(2024, 5, 6)
    assert context["time"].strftime("%Y-%m-%d %H") == "2024-05-06 07"
    assert context["relativedelta"] is relativedelta
    assert context["datetime"].date(2024, 1, 2) == datetime.date(2024, 1, 2)
    values = eval(  # noqa: S307
        "[(context_today() - relativedelta(days=30)).strftime('%Y-%m-%d'), company_ids + [False]]",
        {}, context)
    assert values == ["2024-04-06", [1, 3, False]]


@pytest.mark.parametrize("args", [
    (object(), 1, [1], NOW), (True, 1, [1], NOW), (1, "1", [1], NOW), (1, 1, [object()], NOW),
    (1, 1, [1], datetime.date(2024, 1, 1)),
])
def test_plain_context_takes_plain_values_only(args):
    with pytest.raises(TypeError):
        plain_context(*args)
