"""Suggested property names for mapping lines: plural for to-many lines, singular for to-one."""

import inflect

__all__ = ["suggest_property_name"]

_ENGINE = inflect.engine()


def _strip(field_name):
    for suffix in ("_ids", "_id"):
        if field_name.endswith(suffix) and len(field_name) > len(suffix):
            return field_name[: -len(suffix)]
    return field_name


def suggest_property_name(field_name, cardinality):
    """``child_ids``/2many -> ``children``, ``country_id``/2one -> ``country``, other -> without ``_id(s)``."""
    if not field_name:
        raise ValueError("a field name is needed to suggest a property name")
    stem = _strip(field_name)
    head, _sep, last = stem.rpartition("_")
    if cardinality == "2many":
        singular = _ENGINE.singular_noun(last)
        word = last if singular else _ENGINE.plural_noun(last)
    elif cardinality == "2one":
        word = _ENGINE.singular_noun(last) or last
    else:
        return stem
    return f"{head}_{word}" if head else word
