"""A static check of the ``domain`` of a data type (and of a remote domain), at save and before each evaluation.

A domain was evaluated with ``ir.rule``'s context, whose ``user`` is a
record of a superuser environment: a Synchronization manager could write
``[('id', '!=', user.env.ref('base.group_system').write(...) and 0)]`` and
become administrator, or put ``user.env['ir.config_parameter']...`` as a
field name and read the answer in the error.  A domain is now evaluated with
plain values only, and its source must be one of the forms below; anything
else is refused with its line and column.

The source is a list (or tuple) of terms.  A term is one of the strings
``'&'``, ``'|'`` and ``'!'`` (in Polish notation, as Odoo reads them) or a
leaf ``(field, operator, value)``:

* ``field`` is a string, a field path such as ``'partner_id.country_id'``
  (or the ``1``/``0`` of Odoo's always-true and always-false leaves);
* ``operator`` is a string, one of :data:`OPERATORS`;
* ``value`` is an expression, or for ``any`` and ``not any`` a domain on the
  field's model written out the same way.

An expression is made of:

* constants: strings, numbers, ``True``, ``False``, ``None``; lists and
  tuples of expressions; unary ``-``, ``+`` and ``not``; ``+`` and ``-`` of
  numbers, strings, lists, dates and durations;
* the plain names (:data:`VALUE_NAMES`): ``uid`` and ``user_id`` (the id of
  the user evaluating the domain), ``company_id`` (the id of the current
  company), ``company_ids`` (the ids of the allowed companies), ``today`` (a
  date) and ``now`` (a datetime, UTC without time zone, as Odoo stores
  datetimes);
* the helpers, called: ``context_today()`` (``today``),
  ``relativedelta(...)`` (keyword arguments only), ``datetime.date(...)``,
  ``datetime.datetime(...)``, ``datetime.time(...)``,
  ``datetime.timedelta(...)`` (keyword arguments only),
  ``datetime.datetime.combine(date, time)`` and ``time.strftime(format)``
  (``now`` formatted);
* on a date, a datetime or a time: the methods ``strftime``, ``isoformat``,
  ``replace``, ``weekday``, ``isoweekday`` (``date`` and ``time`` on a
  datetime) and the attributes ``year``, ``month``, ``day``, ``hour``,
  ``minute``, ``second``.

Everything else is refused: any other name (``user``, ``env``, ``self``...),
an attribute of anything but a date or a time, a call of anything but a
helper, ``format``, subscripts, ``and``/``or``, comparisons, lambdas,
comprehensions, dicts, f-strings.  Messages name the part and where it is;
they never hold a value, since nothing is evaluated here.

:func:`plain_context` builds the names a domain is evaluated with (with
``odoo.tools.safe_eval``, from ints, a list of ints and a datetime: never a
record).  :func:`check_domain` returns the leaves, with their field paths,
so that the caller can check that the person saving the domain may read
them.
"""

import ast
import datetime as _datetime
import re
import types
from collections import namedtuple

from dateutil.relativedelta import relativedelta as _relativedelta

from .source_position import Locator

__all__ = [
    "HELPER_NAMES", "OPERATORS", "VALUE_NAMES", "DomainCheckError", "Leaf", "check_domain", "domain_paths",
    "plain_context",
]

OPERATORS = frozenset({
    "=", "!=", "<=", "<", ">", ">=", "=?", "=like", "=ilike", "like", "not like", "ilike", "not ilike", "in",
    "not in", "child_of", "parent_of", "any", "not any",
})
DOMAIN_OPERATORS = frozenset({"&", "|", "!"})

# kinds of expressions: what a helper or a method may be applied to
NUMBER, STR, BOOL, NONE, LIST, DATE, DATETIME, TIME, DELTA = (
    "number", "string", "boolean", "None", "list", "date", "datetime", "time", "duration")

VALUE_NAMES = {
    "uid": NUMBER, "user_id": NUMBER, "company_id": NUMBER, "company_ids": LIST, "today": DATE, "now": DATETIME,
}
HELPER_NAMES = ("context_today", "relativedelta", "datetime", "time")

_DELTA_KEYWORDS = frozenset({
    "years", "months", "weeks", "days", "hours", "minutes", "seconds", "microseconds",
    "year", "month", "day", "hour", "minute", "second", "microsecond",
})
_TIMEDELTA_KEYWORDS = frozenset({"weeks", "days", "hours", "minutes", "seconds", "milliseconds", "microseconds"})
_REPLACE_KEYWORDS = {
    DATE: frozenset({"year", "month", "day"}),
    DATETIME: frozenset({"year", "month", "day", "hour", "minute", "second", "microsecond"}),
    TIME: frozenset({"hour", "minute", "second", "microsecond"}),
}
# method name -> kind of the result, per kind of the receiver; every argument is checked as an expression
_METHODS = {
    DATE: {"strftime": STR, "isoformat": STR, "replace": DATE, "weekday": NUMBER, "isoweekday": NUMBER},
    DATETIME: {"strftime": STR, "isoformat": STR, "replace": DATETIME, "weekday": NUMBER, "isoweekday": NUMBER,
               "date": DATE, "time": TIME},
    TIME: {"strftime": STR, "isoformat": STR, "replace": TIME},
}
_ATTRIBUTES = {
    DATE: frozenset({"year", "month", "day"}),
    DATETIME: frozenset({"year", "month", "day", "hour", "minute", "second"}),
    TIME: frozenset({"hour", "minute", "second"}),
}
# (kind of the left operand, operator, kind of the right one) -> kind of the result
_BINARY = {
    **{(NUMBER, op, NUMBER): NUMBER for op in ("+", "-")},
    (STR, "+", STR): STR,
    (LIST, "+", LIST): LIST,
    **{(kind, op, DELTA): kind for kind in (DATE, DATETIME) for op in ("+", "-")},
    (DELTA, "+", DATE): DATE,
    (DELTA, "+", DATETIME): DATETIME,
    **{(DELTA, op, DELTA): DELTA for op in ("+", "-")},
    (DATE, "-", DATE): DELTA,
    (DATETIME, "-", DATETIME): DELTA,
}
_FIELD_PATH_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_NODE_NAMES = {
    ast.BoolOp: "'and'/'or'", ast.Compare: "a comparison", ast.IfExp: "a conditional expression",
    ast.Lambda: "a lambda", ast.Dict: "a dict", ast.Set: "a set", ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension", ast.DictComp: "a comprehension", ast.GeneratorExp: "a comprehension",
    ast.Subscript: "a subscript", ast.Starred: "a starred expression", ast.JoinedStr: "an f-string",
    ast.NamedExpr: "an assignment", ast.Await: "an await", ast.Yield: "a yield", ast.YieldFrom: "a yield",
    ast.Slice: "a slice",
}
_MAX_SOURCE = 20000
# attributes that reach code or an environment: named first, before whatever holds them (see _Checker.scan)
_REACHING_ATTRIBUTES = frozenset({
    "format", "format_map", "env", "sudo", "with_user", "with_env", "with_context", "cr", "pool", "registry",
    "write", "create", "unlink", "copy", "update", "execute", "ref",
})

Leaf = namedtuple("Leaf", "number path where term")
Leaf.__doc__ = """A leaf of a checked domain.

``number``: its rank among the leaves of the source (1-based, nested ones
included); ``path``: its field path (prefixed with the path of the ``any``
leaf it is in), or None for ``1``/``0``; ``where``: ``line L, column C``;
``term``: the index of the top-level term it is (or is in).
"""


class DomainCheckError(ValueError):
    """A domain is refused; the message names the part and where it is."""


def _short(text, size=40):
    text = str(text)
    return text if len(text) <= size else text[: size - 3] + "..."


class _Checker:
    def __init__(self, source, stripped):
        self.locator = Locator(source, stripped)
        self.leaves = []

    def scan(self, tree):
        """Refuse the first name that is not allowed, or attribute that reaches code, in the order of the source.

        They are what an attack is made of (``user``, ``env``, ``format``,
        ``__class__``), so they are named before whatever holds them (an
        ``and``, a subscript).
        """
        found = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id not in VALUE_NAMES and node.id not in HELPER_NAMES:
                found.append((node, f"the name {_short(node.id)!r} is not allowed (a domain may use only "
                              + ", ".join(sorted(VALUE_NAMES)) + " and the date helpers)"))
            elif isinstance(node, ast.Attribute) and ("__" in node.attr or node.attr in _REACHING_ATTRIBUTES
                                                      or node.attr.startswith("_")):
                found.append((node, f"the attribute {_short(node.attr)!r} is not allowed"))
        if found:
            node, message = min(found, key=lambda item: (item[0].lineno, item[0].col_offset,
                                                          isinstance(item[0], ast.Attribute)))
            self.refuse(node, message)

    def refuse(self, node, message):
        raise DomainCheckError(f"{message} at {self.locator.where(node)}")

    # -- domains -----------------------------------------------------------
    def domain(self, node, prefix, top_index=None):
        if not isinstance(node, (ast.List, ast.Tuple)):
            self.refuse(node, "a domain is a list of terms: (field, operator, value), '&', '|' or '!'; this is "
                        + self.describe(node))
        expected = 1
        for index, term in enumerate(node.elts):
            top = index if top_index is None else top_index
            if expected == 0:  # terms that follow each other are joined by an implicit '&'
                expected = 1
            if isinstance(term, ast.Constant) and isinstance(term.value, str):
                if term.value not in DOMAIN_OPERATORS:
                    self.refuse(term, f"the term {_short(term.value)!r} is not '&', '|' or '!'")
                expected += 0 if term.value == "!" else 1
            elif isinstance(term, (ast.List, ast.Tuple)):
                self.leaf(term, prefix, top)
                expected -= 1
            else:
                self.refuse(term, "a term of a domain is (field, operator, value), '&', '|' or '!'; this is "
                            + self.describe(term))
        if node.elts and expected != 0:
            self.refuse(node, f"the operators '&', '|' and '!' of this domain lack {expected} term(s)")

    def leaf(self, node, prefix, top):
        if len(node.elts) != 3:
            self.refuse(node, f"a leaf is (field, operator, value), not {len(node.elts)} items")
        field, operator, value = node.elts
        self.leaves.append(None)  # its number is taken before those of the leaves nested in it
        number = len(self.leaves)
        if not (isinstance(operator, ast.Constant) and isinstance(operator.value, str)):
            self.refuse(operator, f"the operator of leaf {number} must be written as a string")
        if operator.value not in OPERATORS:
            self.refuse(operator, f"{_short(operator.value)!r} (leaf {number}) is not a domain operator")
        path = None
        if isinstance(field, ast.Constant) and field.value in (0, 1) and type(field.value) is int:
            if prefix:
                self.refuse(field, f"leaf {number}: the always true or false leaf is not allowed in 'any'")
        elif isinstance(field, ast.Constant) and isinstance(field.value, str) and _FIELD_PATH_RE.match(field.value):
            path = f"{prefix}.{field.value}" if prefix else field.value
        else:
            if not isinstance(field, ast.Constant):
                self.expr(field)  # names what is not allowed in it, if anything
            self.refuse(field, f"the field of leaf {number} must be written as a string of field names separated "
                        "by dots ('partner_id.name')")
        self.leaves[number - 1] = Leaf(number, path, self.locator.where(node), top)
        if operator.value in ("any", "not any"):
            if path is None:
                self.refuse(field, f"leaf {number}: {operator.value!r} needs a field")
            self.domain(value, path, top)
        else:
            self.expr(value)

    # -- expressions -------------------------------------------------------
    def describe(self, node):
        if isinstance(node, ast.Name):
            return f"the name {_short(node.id)!r}"
        if isinstance(node, ast.Attribute):
            return f"the attribute {_short(node.attr)!r}"
        if isinstance(node, ast.Constant):
            return f"a {type(node.value).__name__} constant"
        if isinstance(node, ast.Call):
            return "a call"
        return _NODE_NAMES.get(type(node), f"a {type(node).__name__} expression")

    def expr(self, node):
        """The kind of ``node``'s value; refuse what is not allowed."""
        check = {
            ast.Constant: self.constant, ast.List: self.sequence, ast.Tuple: self.sequence, ast.Name: self.name,
            ast.UnaryOp: self.unary, ast.BinOp: self.binary, ast.Call: self.call, ast.Attribute: self.attribute,
        }.get(type(node))
        if check is None:
            self.refuse(node, f"{self.describe(node)} is not allowed")
        return check(node)

    def constant(self, node):
        value = node.value
        if isinstance(value, bool):
            return BOOL
        if value is None:
            return NONE
        if isinstance(value, (int, float)):
            return NUMBER
        if isinstance(value, str):
            return STR
        return self.refuse(node, f"{self.describe(node)} is not allowed")

    def sequence(self, node):
        for element in node.elts:
            self.expr(element)
        return LIST

    def name(self, node):
        if node.id in VALUE_NAMES:
            return VALUE_NAMES[node.id]
        if node.id in HELPER_NAMES:
            self.refuse(node, f"the helper {node.id!r} is used only as written in the documentation "
                        "(context_today(), relativedelta(days=1), datetime.date(...), time.strftime(...))")
        return self.refuse(node, f"the name {_short(node.id)!r} is not allowed (a domain may use only "
                           + ", ".join(sorted(VALUE_NAMES)) + " and the date helpers)")

    def unary(self, node):
        kind = self.expr(node.operand)
        if isinstance(node.op, ast.Not):
            return BOOL
        if isinstance(node.op, (ast.USub, ast.UAdd)) and kind in (NUMBER, DELTA):
            return kind
        return self.refuse(node, f"this unary operator does not apply to a {kind}")

    def binary(self, node):
        symbol = {ast.Add: "+", ast.Sub: "-"}.get(type(node.op))
        if symbol is None:
            self.refuse(node, "only + and - are allowed between values")
        left, right = self.expr(node.left), self.expr(node.right)
        kind = _BINARY.get((left, symbol, right))
        if kind is None:
            self.refuse(node, f"{symbol} of a {left} and a {right} is not allowed")
        return kind

    def attribute(self, node):
        if "__" in node.attr:
            self.refuse(node, f"the attribute {_short(node.attr)!r} contains '__'")
        if isinstance(node.value, ast.Name) and node.value.id in ("datetime", "time"):
            self.refuse(node, f"{node.value.id}.{_short(node.attr)} is not called, or not allowed")
        kind = self.expr(node.value)
        if node.attr in _ATTRIBUTES.get(kind, ()):
            return NUMBER
        return self.refuse(node, f"the attribute {_short(node.attr)!r} is not allowed (only the year, month, day, "
                           "hour, minute and second of a date or a time)")

    def arguments(self, node, keywords=frozenset(), positional=True, kind=None):
        """Check the arguments of a call; ``kind``: what each must be, if not any expression."""
        if node.args and not positional:
            self.refuse(node, "this helper takes keyword arguments only")
        for arg in node.args:
            found = self.expr(arg)
            if kind and found != kind:
                self.refuse(arg, f"this argument must be a {kind}, not a {found}")
        for keyword in node.keywords:
            if keyword.arg is None:
                self.refuse(keyword.value, "'**' is not allowed")
            if keyword.arg not in keywords:
                self.refuse(keyword.value, f"the keyword argument {_short(keyword.arg)!r} is not allowed here")
            found = self.expr(keyword.value)
            if found != NUMBER:
                self.refuse(keyword.value, f"the keyword argument {keyword.arg!r} must be a number, not a {found}")

    def call(self, node):
        func = node.func
        if isinstance(func, ast.Name):
            return self.call_helper(node, func)
        if not isinstance(func, ast.Attribute):
            self.refuse(func, f"{self.describe(func)} is not a helper that may be called")
        if "__" in func.attr:
            self.refuse(func, f"the attribute {_short(func.attr)!r} contains '__'")
        owner = func.value
        if isinstance(owner, ast.Name) and owner.id == "datetime":
            return self.call_datetime(node, func)
        if isinstance(owner, ast.Name) and owner.id == "time":
            if func.attr != "strftime":
                self.refuse(func, f"time.{_short(func.attr)} is not an allowed helper (only time.strftime)")
            return self.call_strftime(node)
        if (isinstance(owner, ast.Attribute) and isinstance(owner.value, ast.Name) and owner.value.id == "datetime"
                and owner.attr == "datetime"):
            return self.call_combine(node, func)
        return self.call_method(node, func)

    def call_helper(self, node, func):
        if func.id == "context_today":
            if node.args or node.keywords:
                self.refuse(node, "context_today() takes no argument")
            return DATE
        if func.id == "relativedelta":
            self.arguments(node, _DELTA_KEYWORDS, positional=False)
            return DELTA
        return self.refuse(func, f"{self.describe(func)} is not a helper that may be called")

    def call_datetime(self, node, func):
        if func.attr in ("date", "datetime", "time"):
            self.arguments(node, positional=True, kind=NUMBER)
            return {"date": DATE, "datetime": DATETIME, "time": TIME}[func.attr]
        if func.attr == "timedelta":
            self.arguments(node, _TIMEDELTA_KEYWORDS, positional=False)
            return DELTA
        return self.refuse(func, f"datetime.{_short(func.attr)} is not an allowed helper")

    def call_strftime(self, node):
        if len(node.args) != 1 or node.keywords:
            self.refuse(node, "strftime takes one format")
        self.arguments(node, kind=STR)
        return STR

    def call_combine(self, node, func):
        if func.attr != "combine":
            self.refuse(func, f"datetime.datetime.{_short(func.attr)} is not an allowed helper (only "
                        "datetime.datetime.combine)")
        if (len(node.args) != 2 or node.keywords or self.expr(node.args[0]) not in (DATE, DATETIME)
                or self.expr(node.args[1]) != TIME):
            self.refuse(node, "datetime.datetime.combine takes a date and a time")
        return DATETIME

    def call_method(self, node, func):
        kind = self.expr(func.value)
        methods = _METHODS.get(kind)
        if not methods:
            self.refuse(func, f"the method {_short(func.attr)!r} is not allowed on a {kind} (only on a date or a "
                        "time)")
        if func.attr not in methods:
            self.refuse(func, f"the method {_short(func.attr)!r} is not allowed on a {kind} (only "
                        + ", ".join(sorted(methods)) + ")")
        if func.attr == "replace":
            self.arguments(node, _REPLACE_KEYWORDS[kind], positional=False)
        elif func.attr == "strftime":
            self.call_strftime(node)
        elif node.args or node.keywords:
            self.refuse(node, f"{func.attr}() takes no argument")
        return methods[func.attr]


def check_domain(source):
    """Check the source of a domain; return its leaves (:class:`Leaf`), in the order of the source.

    An empty source is the empty domain.  Raise :class:`DomainCheckError`,
    whose message names what was found and its line and column, when the
    source is not a domain written with what the module docstring lists.
    """
    if source is False or source is None:
        source = ""
    if not isinstance(source, str):
        raise DomainCheckError(f"a domain is a string, not {type(source).__name__}")
    stripped = source.strip()
    if not stripped:
        return []
    if len(stripped) > _MAX_SOURCE:
        raise DomainCheckError(f"the domain is longer than {_MAX_SOURCE} characters")
    checker = _Checker(source, stripped)
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        where = checker.locator.position(exc.lineno or 1, (exc.offset or 1) - 1)
        raise DomainCheckError(f"syntax error at {where}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise DomainCheckError("the domain is too deeply nested to be checked") from None
    try:
        checker.scan(tree)
        checker.domain(tree.body, prefix="")
    except RecursionError:
        raise DomainCheckError("the domain is too deeply nested to be checked") from None
    return list(checker.leaves)


def domain_paths(source):
    """The field paths the domain ``source`` searches on, in order, without repeats (after :func:`check_domain`)."""
    paths = []
    for leaf in check_domain(source):
        if leaf.path and leaf.path not in paths:
            paths.append(leaf.path)
    return paths


def _int(name, value):
    if type(value) is not int:
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    return value


def plain_context(uid, company_id, company_ids, now):
    """The names a domain is evaluated with: ints, a list of ints, dates and the date helpers; never a record.

    ``now`` is a naive datetime (UTC, as Odoo stores them); ``today`` and
    ``context_today()`` are its date, ``time.strftime(format)`` formats it.
    Raise ``TypeError`` when an argument is not of the plain type it must be.
    """
    company_ids = [_int("company_ids", company) for company in company_ids]
    if type(now) is not _datetime.datetime:
        raise TypeError(f"now must be a datetime, not {type(now).__name__}")
    today = now.date()
    return {
        "uid": _int("uid", uid),
        "user_id": uid,
        "company_id": _int("company_id", company_id),
        "company_ids": company_ids,
        "today": today,
        "now": now,
        "context_today": lambda: today,
        "relativedelta": _relativedelta,
        "datetime": types.SimpleNamespace(date=_datetime.date, datetime=_datetime.datetime, time=_datetime.time,
                                          timedelta=_datetime.timedelta),
        "time": types.SimpleNamespace(strftime=now.strftime),
    }
