"""A static check of the Python expressions of ``code`` mapping lines, at save.

``odoo.tools.safe_eval`` is not a privilege boundary (a record reaches
``env``), and on Odoo 18.0
``'{0.__init__.__globals__[config][admin_passwd]}'.format(record)`` passes it
and returns the master password.  Only administrators may write code lines;
on top of that this check refuses, with the line and column:

* any name, attribute, keyword or argument containing ``__``, and any string
  constant containing ``__`` (implicit concatenation is merged by the parser,
  and ``+`` and ``str.join`` of constants are folded before the test);
* the attributes ``format`` and ``format_map``;
* ``env`` and ``open``, as names or attributes, and the builtins that reach
  attributes or code by name (``getattr``, ``eval``...).
"""

import ast

__all__ = ["CodeCheckError", "check_expression"]

FORBIDDEN_ATTRIBUTES = frozenset({"format", "format_map", "env", "open"})
FORBIDDEN_NAMES = frozenset(
    {"env", "open", "getattr", "setattr", "delattr", "globals", "locals", "vars", "eval", "exec", "compile", "type"}
)


class CodeCheckError(ValueError):
    """An expression is refused."""


def _where(node):
    return f"line {getattr(node, 'lineno', '?')}, column {getattr(node, 'col_offset', -1) + 1}"


def _fold(node):
    """The constant string an expression folds to, or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        return node.value if isinstance(node.value, str) else node.value.decode("latin-1")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _fold(node.left), _fold(node.right)
        if left is not None and right is not None:
            return left + right
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "join"
        and len(node.args) == 1
        and isinstance(node.args[0], (ast.List, ast.Tuple))
    ):
        separator = _fold(node.func.value)
        items = [_fold(item) for item in node.args[0].elts]
        if separator is not None and all(item is not None for item in items):
            return separator.join(items)
    return None


def _refuse(node, what):
    raise CodeCheckError(f"{what} at {_where(node)}")


def _check_node(node):
    if isinstance(node, ast.Name):
        if "__" in node.id:
            _refuse(node, f"the name {node.id!r} contains '__'")
        if node.id in FORBIDDEN_NAMES:
            _refuse(node, f"the name {node.id!r} is not allowed")
    elif isinstance(node, ast.Attribute):
        if "__" in node.attr:
            _refuse(node, f"the attribute {node.attr!r} contains '__'")
        if node.attr in FORBIDDEN_ATTRIBUTES:
            _refuse(node, f"the attribute {node.attr!r} is not allowed")
    elif isinstance(node, (ast.keyword, ast.arg)) and node.arg and "__" in node.arg:
        _refuse(node, f"the keyword or argument {node.arg!r} contains '__'")
    folded = _fold(node)
    if folded is not None and "__" in folded:
        _refuse(node, f"the string {folded[:40]!r} contains '__'")


def check_expression(source):
    """Raise :class:`CodeCheckError` when ``source`` is refused; return None when it is fine."""
    if not isinstance(source, str) or not source.strip():
        raise CodeCheckError("the expression is empty")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise CodeCheckError(f"syntax error at line {exc.lineno}, column {exc.offset}: {exc.msg}") from None
    for node in ast.walk(tree):
        _check_node(node)
