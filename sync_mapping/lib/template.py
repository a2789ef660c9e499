"""Templates of ``default`` mapping lines.

``{field}`` and ``{partner_id.country_id.code}`` are replaced by the value of
a field chain; ``{{`` and ``}}`` stand for literal braces.  The resolver is
our own and follows field chains only: ``str.format`` is never used, since a
format string reaches dunder attributes (``{0.__init__.__globals__}``).

A template that contains a literal brace builds a JSON structure: each
inserted value is JSON-escaped for a place inside a JSON string, and the
rendered text is parsed as JSON.  Any other template renders to a string.

Rules of :func:`parse`, whose errors name the 1-based character position and
the offending text:

* ``{{`` and ``}}`` are a literal ``{`` and ``}``; a single ``}`` outside a
  placeholder is refused, and so is a ``{`` with no closing ``}``;
* a placeholder holds a field chain: names matching
  ``[A-Za-z_][A-Za-z0-9_]*`` joined by dots, none containing ``__``.  Empty
  placeholders, indexes, conversions, format specs, spaces, empty segments
  (``{a.}``, ``{.a}``) and dunders (``{__class__}``) are refused.

Values inserted by :func:`render`: ``None`` and ``False`` insert nothing,
``True`` inserts ``true``, numbers their ``str()`` and strings themselves.
"""

import json
import re
from collections.abc import Callable

__all__ = ["TemplateError", "is_json_template", "parse", "paths", "render"]

SEGMENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class TemplateError(ValueError):
    """A template is malformed, or does not render."""


def _snippet(text, limit=30):
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _parse_path(text, position):
    if not text:
        raise TemplateError(f"empty placeholder {{}} at character {position}")
    segments = tuple(text.split("."))
    for segment in segments:
        if not SEGMENT_RE.match(segment) or "__" in segment:
            raise TemplateError(
                f"{_snippet('{' + text + '}')} at character {position} is not a field chain"
                f" such as {{partner_id.country_id.code}}: {_snippet(segment)} is not a field name"
            )
    return segments


def parse(template: str) -> list[tuple]:
    """Tokens of ``template``: ``("text", str)`` and ``("path", (segment, ...))``.

    Adjacent text is merged into one token.  Raise :class:`TemplateError` when
    ``template`` is not a string or breaks a rule of the module docstring.
    """
    if not isinstance(template, str):
        raise TemplateError(f"a template is a string, not {type(template).__name__}")
    tokens = []
    text = []
    index, length = 0, len(template)
    while index < length:
        char = template[index]
        if char == "{":
            if template.startswith("{{", index):
                text.append("{")
                index += 2
                continue
            end = template.find("}", index + 1)
            if end < 0:
                raise TemplateError(
                    f"unbalanced '{{' at character {index + 1}: no closing '}}' in {_snippet(template[index:])}"
                )
            inner = template[index + 1:end]
            if "{" in inner:
                raise TemplateError(
                    f"unbalanced '{{' at character {index + 1}: {_snippet(template[index:end + 1])} opens another"
                    " '{' before it closes"
                )
            if text:
                tokens.append(("text", "".join(text)))
                text = []
            tokens.append(("path", _parse_path(inner, index + 1)))
            index = end + 1
        elif char == "}":
            if template.startswith("}}", index):
                text.append("}")
                index += 2
                continue
            raise TemplateError(f"unbalanced '}}' at character {index + 1}: write '}}}}' for a literal brace")
        else:
            text.append(char)
            index += 1
    if text:
        tokens.append(("text", "".join(text)))
    return tokens


def paths(template: str) -> list[tuple]:
    """The distinct field chains of ``template``, in order of first appearance."""
    seen = []
    for kind, value in parse(template):
        if kind == "path" and value not in seen:
            seen.append(value)
    return seen


def is_json_template(template: str) -> bool:
    """True when the template uses literal braces (``{{`` or ``}}``), i.e. builds a JSON structure.

    In a template that parses, ``{{`` or ``}}`` appears only as an escape.
    """
    if not isinstance(template, str):
        raise TemplateError(f"a template is a string, not {type(template).__name__}")
    return "{{" in template or "}}" in template


def _text(value):
    if value is None or value is False:
        return ""
    if value is True:
        return "true"
    return value if isinstance(value, str) else str(value)


def render(template: str, resolve: Callable[[tuple], object]):
    """Render ``template``; ``resolve(path)`` gives the value of a field chain.

    Return a string, or for a JSON template (see :func:`is_json_template`)
    the parsed JSON value, where each inserted value was escaped as
    ``json.dumps(value)[1:-1]`` for a place inside a JSON string.  Raise
    :class:`TemplateError` when the template does not parse or, for a JSON
    template, the rendered text is not valid JSON.
    """
    tokens = parse(template)
    as_json = is_json_template(template)
    parts = []
    for kind, value in tokens:
        if kind == "text":
            parts.append(value)
            continue
        inserted = _text(resolve(value))
        parts.append(json.dumps(inserted)[1:-1] if as_json else inserted)
    rendered = "".join(parts)
    if not as_json:
        return rendered
    try:
        return json.loads(rendered)
    except ValueError as exc:
        raise TemplateError(f"the rendered template is not valid JSON: {exc}") from None
