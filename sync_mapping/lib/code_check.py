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
  ``exec``, ``compile`` and ``type``.

The source is stripped before it is parsed, as ``safe_eval`` does; lines and
columns in the messages are 1-based and count characters of the source as
given.
"""

import ast
import re

__all__ = ["CodeCheckError", "check_expression"]

FORBIDDEN_ATTRIBUTES = frozenset({
    "format", "format_map", "env", "open",
    "cr", "pool", "registry", "sudo", "with_user", "with_env", "with_context", "with_company",
    "write", "create", "unlink", "copy", "update", "execute",
})
FORBIDDEN_NAMES = frozenset(
    {"env", "open", "getattr", "setattr", "delattr", "globals", "locals", "vars", "eval", "exec", "compile", "type"}
)
# stands for a part known at run time only (a name, a call...) in a folded string
_UNKNOWN = "\x00"
# a format spec folded by the check must stay small: '{:>999999999}' would allocate a gigabyte
_MAX_FOLDED_WIDTH = 1000


class CodeCheckError(ValueError):
    """An expression is refused."""


class _Locator:
    """Turns the positions of the stripped source's nodes into those of the source as given."""

    def __init__(self, source, stripped):
        removed = source[: len(source) - len(source.lstrip())]
        self.line_offset = removed.count("\n")
        self.first_line_shift = len(removed) - (removed.rfind("\n") + 1)
        self.lines = stripped.splitlines()

    def position(self, lineno, column):
        """``line L, column C`` of the source as given, from a 1-based line and 0-based column of the stripped one."""
        if lineno == 1:
            column += self.first_line_shift
        return f"line {lineno + self.line_offset}, column {column + 1}"

    def where(self, node):
        """The position of ``node``."""
        lineno = getattr(node, "lineno", None)
        if lineno is None:
            return "an unknown position"
        column = node.col_offset
        if 0 < lineno <= len(self.lines):
            # col_offset counts UTF-8 bytes; the message counts characters
            column = len(self.lines[lineno - 1].encode()[:column].decode(errors="ignore"))
        return self.position(lineno, column)


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


def check_expression(source):
    """Check the expression of a ``code`` mapping line.

    Return None when ``source`` is fine; raise :class:`CodeCheckError`, whose
    message says what was found and at which line and column, when it is
    empty, is not a Python expression or uses anything listed in the module
    docstring.
    """
    if not isinstance(source, str):
        raise CodeCheckError(f"an expression is a string, not {type(source).__name__}")
    stripped = source.strip()
    if not stripped:
        raise CodeCheckError("the expression is empty")
    locator = _Locator(source, stripped)
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
