"""Where a node of a parsed expression is in the source as the admin typed it.

The checks of code lines (:mod:`.code_check`) and domains
(:mod:`.domain_check`) strip the source before they parse it, as
``safe_eval`` does, and name the offending part by line and column of the
source as given: 1-based, in characters (``col_offset`` counts UTF-8 bytes).
"""

__all__ = ["Locator"]


class Locator:
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
