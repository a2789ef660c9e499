"""A static check of the Python expressions of ``code`` mapping lines, at save.

``odoo.tools.safe_eval`` is not a privilege boundary (a record reaches
``env``), and on Odoo 18.0
``'{0.__init__.__globals__[config][admin_passwd]}'.format(record)`` passes it
and returns the master password.  Only administrators may write code lines;
on top of that this check refuses, with the line and column:

* any name, attribute, keyword or argument name containing ``__`` (this
  covers ``__import__``);
* any string or bytes constant containing ``__``: f-string parts are
  constants too, implicit concatenation (``'a_' '_b'``) is merged by the
  parser, and constant expressions are folded before the test: ``+`` of
  strings (``'_' + '_class_' + '_'``), ``str * int`` (a count that is not
  a constant counts as 2 or more), ``sep.join(...)`` and
  ``str.join(sep, ...)`` of a list, tuple or string, and f-strings; parts
  known at run time only count as text without ``_``, so
  ``record.name + '_' + '_class_'`` is refused too;
* the attributes ``format`` and ``format_map`` (``str.format`` reaches
  attributes by name);
* ``env`` and ``open``, as names or attributes;
* private attributes (``record._cr``, ``record._context``: a single leading
  underscore), and the attributes that reach the database, the registry or
  other rights (``cr``, ``pool``, ``registry``, ``sudo``, ``with_user``,
  ``with_env``, ``with_context``, ``with_company``) or that write
  (``write``, ``create``, ``unlink``, ``copy``, ``update``, ``execute``):
  a code line is an expression that reads its record, evaluated while
  serializing as the superuser;
* the builtins that reach attributes or code by name: ``getattr``,
  ``setattr``, ``delattr``, ``globals``, ``locals``, ``vars``, ``eval``,
  ``exec``, ``compile`` and ``type``;
* calls of the methods that search, read beyond the record's fields or act
  (:data:`REFUSED_CALLS`, and names starting with ``search``, ``read``,
  ``action_``, ``message_``, ``activity_``, ``button_``, ``toggle_``,
  ``name_``, ``flush``, ``invalidate`` or ``export_``): ``record.search([])``,
  ``record.browse(2)``, ``record.toggle_active()``, ``record.action_archive()``
  and ``record.message_post()`` are refused wherever they appear.

:func:`record_chains` then says what the expression reads: every chain of
attributes, calls and subscripts that starts at ``record`` (or ``obj``) or
``system``, following lambda parameters and comprehension variables, so that
the model side can check each step against the fields of the models and the
rights of the person saving the line (see ``sync.mapping.line``).

The source is stripped before it is parsed, as ``safe_eval`` does; lines and
columns in the messages are 1-based and count characters of the source as
given.
"""

import ast
import re

from .source_position import Locator

__all__ = ["CodeCheckError", "chain_text", "check_expression", "describe_write", "record_chains"]

FORBIDDEN_ATTRIBUTES = frozenset({
    "format", "format_map", "env", "open",
    "cr", "pool", "registry", "sudo", "with_user", "with_env", "with_context", "with_company",
    "write", "create", "unlink", "copy", "update", "execute",
})
FORBIDDEN_NAMES = frozenset(
    {"env", "open", "getattr", "setattr", "delattr", "globals", "locals", "vars", "eval", "exec", "compile", "type"}
)
# recordset methods (and attributes) that query, read past the fields, or act: refused when called, on anything
REFUSED_CALLS = frozenset({
    "browse", "new", "load", "fetch", "modified", "default_get", "copy_data", "onchange", "check_access",
    "has_access", "get_metadata", "filtered_domain", "with_prefetch", "grouped", "concat", "union",
})
REFUSED_CALL_PREFIXES = (
    "search", "read", "action_", "message_", "activity_", "button_", "toggle_", "name_", "flush", "invalidate",
    "export_",
)
# the names bound to the record being serialized, and to its target system
RECORD_NAMES = frozenset({"record", "obj"})
SYSTEM_NAME = "system"
# the builtins whose result never holds records, whatever they are given
_PLAIN_BUILTINS = frozenset({
    "str", "repr", "len", "int", "float", "bool", "round", "abs", "ord", "chr", "divmod", "isinstance", "any",
    "all", "bytes",
})
# an expression reading more chains than this is refused as too complex to check
_MAX_CHAINS = 2000
# stands for a part known at run time only (a name, a call...) in a folded string
_UNKNOWN = "\x00"
# a format spec folded by the check must stay small: '{:>999999999}' would allocate a gigabyte
_MAX_FOLDED_WIDTH = 1000


class CodeCheckError(ValueError):
    """An expression is refused."""


def _fold_join(node, fold):
    """The fold of ``sep.join(items)`` or ``str.join(sep, items)``, or None."""
    func = node.func
    if not (isinstance(func, ast.Attribute) and func.attr == "join") or node.keywords:
        return None
    if len(node.args) == 1:
        separator, items = fold(func.value), node.args[0]
    elif len(node.args) == 2 and isinstance(func.value, ast.Name) and func.value.id == "str":
        separator, items = fold(node.args[0]), node.args[1]
    else:
        return None
    if separator is None:
        return None
    if isinstance(items, (ast.List, ast.Tuple)):
        return separator.join(_UNKNOWN if part is None else part for part in map(fold, items.elts))
    text = fold(items)  # joining a string joins its characters
    return None if text is None else separator.join(text)


def _fold_mult(node, fold):
    """The fold of ``str * int``, or None.

    ``s * n`` is kept as ``s * min(n, 2)`` (see :func:`_folder`), and as
    ``s * 2`` when ``n`` is not a constant: ``'_' * n`` is refused.
    """
    for text_node, count_node in ((node.left, node.right), (node.right, node.left)):
        text = fold(text_node)
        if text is None:
            continue
        if isinstance(count_node, ast.Constant) and isinstance(count_node.value, int):
            return text * max(0, min(count_node.value, 2))
        return text * 2  # a count known at run time only may be 2 or more
    return None


def _fold_fstring(node, fold):
    """The fold of an f-string whose every part is constant, or None."""
    parts = []
    for value in node.values:
        if not isinstance(value, ast.FormattedValue):
            text = fold(value)
        else:
            text = fold(value.value)
            if text is not None and _UNKNOWN in text:
                text = None  # converted or formatted, an unknown part could become anything
            if text is not None and value.conversion in (ord("r"), ord("a")):
                text = ascii(text) if value.conversion == ord("a") else repr(text)
            if text is not None and value.format_spec is not None:
                spec = fold(value.format_spec)
                if spec is None or any(int(width) > _MAX_FOLDED_WIDTH for width in re.findall(r"\d+", spec)):
                    return None
                try:
                    text = format(text, spec)
                except ValueError:
                    return None
        parts.append(_UNKNOWN if text is None else text)
    return "".join(parts)


def _folder():
    """A memoized function giving the constant string an expression folds to, or None.

    A folded ``s * n`` is shortened to ``s * min(n, 2)``: it keeps the first
    and last characters and contains ``__`` exactly when the real value does,
    which is all the check needs (and ``'_' * 10**9`` allocates nothing).
    Parts known at run time only (``record.name + '_' + '_class_'``) are
    folded as :data:`_UNKNOWN`, a character that is neither ``_`` nor in any
    message; a string with no constant part at all folds to None.  This is a
    defense in depth: a part known at run time that is empty or starts or
    ends with ``_`` escapes the test.
    """
    memo = {}

    def fold(node):
        key = id(node)
        if key not in memo:
            memo[key] = _fold_uncached(node)
        return memo[key]

    def _fold_uncached(node):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return node.value
            if isinstance(node.value, bytes):
                return node.value.decode("latin-1")
            return None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = fold(node.left), fold(node.right)
            if left is None and right is None:
                return None
            return (_UNKNOWN if left is None else left) + (_UNKNOWN if right is None else right)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            return _fold_mult(node, fold)
        if isinstance(node, ast.Call):
            return _fold_join(node, fold)
        if isinstance(node, ast.JoinedStr):
            return _fold_fstring(node, fold)
        return None

    return fold


def _refused_call(name):
    return name in REFUSED_CALLS or name.startswith(REFUSED_CALL_PREFIXES)


def _problem(node, fold):
    """What is wrong with ``node`` itself, or None."""
    if isinstance(node, ast.Name):
        if "__" in node.id:
            return f"the name {node.id!r} contains '__'"
        if node.id in FORBIDDEN_NAMES:
            return f"the name {node.id!r} is not allowed"
    elif isinstance(node, ast.Attribute):
        if "__" in node.attr:
            return f"the attribute {node.attr!r} contains '__'"
        if node.attr in FORBIDDEN_ATTRIBUTES:
            return f"the attribute {node.attr!r} is not allowed"
        if node.attr.startswith("_"):
            return f"the private attribute {node.attr!r} is not allowed"
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _refused_call(node.func.attr):
        return f"calling {node.func.attr!r} is not allowed (a code line only reads its record)"
    elif isinstance(node, ast.NamedExpr):
        return "assignment expressions (:=) are not allowed"
    elif isinstance(node, ast.Lambda) and (node.args.defaults or any(node.args.kw_defaults)):
        return "default values of lambda arguments are not allowed"
    elif isinstance(node, ast.keyword) and node.arg and "__" in node.arg:
        return f"the keyword argument {node.arg!r} contains '__'"
    elif isinstance(node, ast.arg) and "__" in node.arg:
        return f"the argument name {node.arg!r} contains '__'"
    folded = fold(node)
    if folded is not None and "__" in folded:
        folded = folded.replace(_UNKNOWN, "…")
        shown = folded if len(folded) <= 60 else folded[:57] + "..."
        return f"the string {shown!r} contains '__'"
    return None


def _parse_checked(source):
    """The checked expression's tree, and its locator; raise :class:`CodeCheckError` when it is refused."""
    if not isinstance(source, str):
        raise CodeCheckError(f"an expression is a string, not {type(source).__name__}")
    stripped = source.strip()
    if not stripped:
        raise CodeCheckError("the expression is empty")
    locator = Locator(source, stripped)
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        where = locator.position(exc.lineno or 1, (exc.offset or 1) - 1)
        raise CodeCheckError(f"syntax error at {where}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise CodeCheckError("the expression is too deeply nested to be checked") from None
    nodes = list(ast.walk(tree))
    fold = _folder()
    try:
        for node in reversed(nodes):  # the deepest first, so that folding recurses little
            fold(node)
    except RecursionError:
        raise CodeCheckError("the expression is too deeply nested to be checked") from None
    for node in nodes:
        problem = _problem(node, fold)
        if problem:
            raise CodeCheckError(f"{problem} at {locator.where(node)}")
    return tree, locator


def check_expression(source):
    """Check the expression of a ``code`` mapping line.

    Return None when ``source`` is fine; raise :class:`CodeCheckError`, whose
    message says what was found and at which line and column, when it is
    empty, is not a Python expression or uses anything listed in the module
    docstring.
    """
    _parse_checked(source)


# --------------------------------------------------------------------------- what an expression reads
#
# A chain is a tuple: its root ("record" for ``record`` and ``obj``, or "system"), then its steps:
#
# * ("attr", name): an attribute read, not called (a field, ``ids``...);
# * ("call", name, arg): the method ``name`` called on the value; ``arg`` describes its first argument (or its
#   ``key``/``func`` keyword), as mapped/filtered/sorted take it: ("path", "a.b") for a literal string,
#   ("lambda",), ("none",) when absent or None, ("other",) otherwise;
# * ("call", None, None): the value itself called;
# * ("item", kind, key): a subscript; ``kind`` is "number" (a constant integer or slice), "field" (a constant
#   string, ``key``) or "other".
#
# Every chain the expression may produce is returned, prefixes included: the model side walks each one.

ITEM_NUMBER = ("item", "number", None)


def _item_step(node):
    """The step of subscripting with ``node``."""
    def is_number(expr):
        if expr is None:
            return True
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
            expr = expr.operand
        return isinstance(expr, ast.Constant) and isinstance(expr.value, int) and not isinstance(expr.value, bool)

    if isinstance(node, ast.Slice):
        kind = "number" if all(is_number(part) for part in (node.lower, node.upper, node.step)) else "other"
        return (ITEM_NUMBER if kind == "number" else ("item", "other", None))
    if is_number(node):
        return ITEM_NUMBER
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return ("item", "field", node.value)
    return ("item", "other", None)


def _argument(node):
    """How a mapped/filtered/sorted call gives its first argument (``key``/``func`` keywords included)."""
    arg = node.args[0] if node.args else next(
        (kw.value for kw in node.keywords if kw.arg in ("key", "func")), None)
    if arg is None or (isinstance(arg, ast.Constant) and arg.value is None):
        return ("none",)
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return ("path", arg.value)
    if isinstance(arg, ast.Lambda):
        return ("lambda",)
    return ("other",)


def _extend(chains, step):
    return frozenset(chain + (step,) for chain in chains)


class _ChainReader:
    """Walks a checked expression and collects the chains it reads (see above)."""

    def __init__(self, locator):
        self.locator = locator
        self.found = set()

    def refuse(self, node, message):
        raise CodeCheckError(f"{message} at {self.locator.where(node)}")

    def value(self, node, scope):
        """The chains ``node`` may evaluate to (records, or values read from them)."""
        method = getattr(self, f"_value_{type(node).__name__}", None)
        if method is None:
            if isinstance(node, ast.Lambda):
                self.refuse(node, "a lambda is only allowed as an argument of a call")
            chains = frozenset().union(*(self.value(child, scope) for child in ast.iter_child_nodes(node)))
        else:
            chains = method(node, scope)
        self.found.update(chains)
        if len(self.found) > _MAX_CHAINS:
            self.refuse(node, "the expression reads too many things to be checked")
        return chains

    def values(self, nodes, scope):
        return frozenset().union(*(self.value(node, scope) for node in nodes if node is not None))

    # -- leaves
    def _value_Constant(self, node, scope):
        return frozenset()

    def _value_Name(self, node, scope):
        if node.id in scope:
            return scope[node.id]
        if node.id in RECORD_NAMES:
            return frozenset({("record",)})
        if node.id == SYSTEM_NAME:
            return frozenset({("system",)})
        return frozenset()

    # -- steps
    def _value_Attribute(self, node, scope):
        return _extend(self.value(node.value, scope), ("attr", node.attr))

    def _value_Subscript(self, node, scope):
        self.value(node.slice, scope)
        return _extend(self.value(node.value, scope), _item_step(node.slice))

    def _value_Call(self, node, scope):
        func = node.func
        others = [arg for arg in node.args if not isinstance(arg, ast.Lambda)]
        others += [kw.value for kw in node.keywords if not isinstance(kw.value, ast.Lambda)]
        lambdas = [arg for arg in node.args if isinstance(arg, ast.Lambda)]
        lambdas += [kw.value for kw in node.keywords if isinstance(kw.value, ast.Lambda)]
        other_chains = self.values(others, scope)
        if isinstance(func, ast.Lambda):
            # (lambda r: ...)(record): its parameters are what it is given
            return self._lambda_body(func, scope, other_chains) | self._lambda_bodies(lambdas, scope, other_chains)
        if isinstance(func, ast.Attribute):
            base = self.value(func.value, scope)
            called = _extend(base, ("call", func.attr, _argument(node)))
            self.found.update(called)
            # a lambda given to a method receives the elements of the value (records, for mapped/filtered/sorted)
            elements = _extend(base | other_chains, ITEM_NUMBER)
            bodies = self._lambda_bodies(lambdas, scope, elements)
            if func.attr == "mapped" and lambdas:
                return bodies
            if func.attr in ("filtered", "sorted"):
                return called
            return called | other_chains | bodies
        func_chains = self.value(func, scope)
        bodies = self._lambda_bodies(lambdas, scope, _extend(other_chains, ITEM_NUMBER))
        if isinstance(func, ast.Name) and func.id in _PLAIN_BUILTINS and func.id not in scope:
            return frozenset()
        # sorted(), max(), list(), map(), reduce()... may give back what they were given
        return _extend(func_chains, ("call", None, None)) | other_chains | bodies

    def _lambda_bodies(self, lambdas, scope, bound):
        return frozenset().union(*(self._lambda_body(lam, scope, bound) for lam in lambdas))

    def _lambda_body(self, node, scope, bound):
        arguments = node.args
        params = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
        inner = dict(scope)
        for param in params:
            if param is not None:
                inner[param.arg] = bound
        return self.value(node.body, inner)

    # -- combinations
    def _value_BoolOp(self, node, scope):
        return self.values(node.values, scope)

    def _value_IfExp(self, node, scope):
        self.value(node.test, scope)
        return self.values([node.body, node.orelse], scope)

    def _value_BinOp(self, node, scope):
        return self.values([node.left, node.right], scope)

    def _value_UnaryOp(self, node, scope):
        chains = self.value(node.operand, scope)
        return frozenset() if isinstance(node.op, ast.Not) else chains

    def _value_Compare(self, node, scope):
        self.values([node.left, *node.comparators], scope)
        return frozenset()

    def _value_JoinedStr(self, node, scope):
        self.values(node.values, scope)
        return frozenset()

    def _value_FormattedValue(self, node, scope):
        self.values([node.value, node.format_spec], scope)
        return frozenset()

    def _value_Dict(self, node, scope):
        return self.values([*node.keys, *node.values], scope)

    # -- comprehensions: their variables are the elements of what they iterate
    def _comprehension_scope(self, node, scope):
        inner = dict(scope)
        for generator in node.generators:
            elements = _extend(self.value(generator.iter, inner), ITEM_NUMBER)
            for target in ast.walk(generator.target):
                if isinstance(target, ast.Name):
                    inner[target.id] = elements
            self.values(generator.ifs, inner)
        return inner

    def _value_ListComp(self, node, scope):
        return self.value(node.elt, self._comprehension_scope(node, scope))

    _value_SetComp = _value_GeneratorExp = _value_ListComp

    def _value_DictComp(self, node, scope):
        inner = self._comprehension_scope(node, scope)
        return self.values([node.key, node.value], inner)


def record_chains(source):
    """The chains of ``source`` rooted at ``record``/``obj`` or ``system``, as a frozenset (see above).

    Raises :class:`CodeCheckError` when :func:`check_expression` refuses the
    expression, when a lambda appears elsewhere than as an argument of a call,
    or when the expression is too complex to be followed.
    """
    tree, locator = _parse_checked(source)
    reader = _ChainReader(locator)
    try:
        reader.value(tree.body, {})
    except RecursionError:
        raise CodeCheckError("the expression is too deeply nested to be checked") from None
    return frozenset(reader.found)


def chain_text(chain):
    """A chain written back as Python, for messages: ``record.user_ids.mapped('login')``."""
    parts = [chain[0]]
    for step in chain[1:]:
        if step[0] == "attr":
            parts.append(f".{step[1]}")
        elif step[0] == "call" and step[1] is None:
            parts.append("(...)")
        elif step[0] == "call":
            arg = step[2]
            shown = repr(arg[1]) if arg[0] == "path" else {"lambda": "lambda ...", "none": ""}.get(arg[0], "...")
            parts.append(f".{step[1]}({shown})")
        elif step[1] == "field":
            parts.append(f"[{step[2]!r}]")
        else:
            parts.append("[...]")
    return "".join(parts)


_WRITE_RE = re.compile(r"^\s*(UPDATE|INSERT\s+INTO|DELETE\s+FROM|TRUNCATE)\s+(?:ONLY\s+)?\"?([\w.]+)\"?", re.IGNORECASE)
_NEXTVAL_RE = re.compile(r"nextval\s*\(\s*'\"?([\w.]+)\"?'", re.IGNORECASE)
_REFUSED_RE = re.compile(r"cannot execute (\w+(?: \w+)*?)(?:\(\))? in a read-only transaction")


def describe_write(query, message):
    """What a statement refused by a read-only transaction tried, e.g. ``UPDATE on res_partner``.

    ``query`` is the statement sent (text or bytes, or None), ``message`` the
    database's error.  Only the kind of statement and the table or sequence
    are given back: never the values the statement carried.
    """
    if isinstance(query, bytes):
        query = query.decode("utf-8", "replace")
    query = query or ""
    match = _WRITE_RE.match(query)
    if match:
        verb = match.group(1).split()[0].upper()
        return f"{verb} on {match.group(2)}"
    match = _NEXTVAL_RE.search(query)
    if match:
        return f"nextval on {match.group(1)}"
    match = _REFUSED_RE.search(message or "")
    if match:
        return match.group(1)
    return "a write"
