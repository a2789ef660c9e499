"""Suggested property names for mapping lines: plural for to-many lines, singular for to-one.

Rules of :func:`suggest_property_name`:

* a trailing ``_ids`` or ``_id`` is stripped (``partner_id`` -> ``partner``);
* cardinality ``"2many"``: the last underscore-separated word is made plural
  (``child_ids`` -> ``children``, ``order_line`` -> ``order_lines``), unless
  it already is (``lines`` stays ``lines``);
* cardinality ``"2one"``: the last word is made singular
  (``children`` -> ``child``);
* any other cardinality (``None``, ``""``): the stripped name as it is.

Words come from ``inflect``, which takes any word ending in ``s`` for a
plural: words ending in ``is`` (``analysis``, ``axis``) and a few others
(``bus``, ``status``...) are known singulars here.
"""

import inflect

__all__ = ["suggest_property_name"]

_ENGINE = inflect.engine()
# singulars that inflect would take for plurals (singular_noun("bus") == "bu")
_SINGULARS_IN_S = frozenset(
    {"alias", "atlas", "bias", "bonus", "bus", "campus", "canvas", "census", "corpus", "gas", "status", "virus"}
)


def _strip(field_name):
    for suffix in ("_ids", "_id"):
        if field_name.endswith(suffix) and len(field_name) > len(suffix):
            return field_name[: -len(suffix)]
    return field_name


def _singular(word):
    """The singular of ``word``, or None when it is not a plural."""
    if word in _SINGULARS_IN_S or word.endswith("is"):
        return None
    return _ENGINE.singular_noun(word) or None


def suggest_property_name(field_name: str, cardinality: str | None) -> str:
    """The property name suggested for the field ``field_name`` of a line of ``cardinality``.

    ``child_ids``/``"2many"`` -> ``children``, ``country_id``/``"2one"`` ->
    ``country``, ``email``/``None`` -> ``email``; see the module docstring.
    Raise ValueError when ``field_name`` is empty or not a string.
    """
    if not isinstance(field_name, str) or not field_name:
        raise ValueError(f"a field name is needed to suggest a property name, not {field_name!r}")
    stem = _strip(field_name)
    if cardinality not in ("2many", "2one"):
        return stem
    head, sep, last = stem.rpartition("_")
    if not last:  # "order_": no word to inflect
        return stem
    if cardinality == "2many":
        word = last if _singular(last) else _ENGINE.plural_noun(last)
    else:
        word = _singular(last) or last
    return f"{head}{sep}{word}"
