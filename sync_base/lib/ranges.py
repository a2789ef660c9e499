"""Valid ranges of numeric settings: what the checks refuse, what their messages say, what readers fall back to.

Each addon declares its ranges once, as data (a dict of :class:`Range`), and
both its constraints and the readers of stored parameters use it, so that a
message can never name a range the check does not apply.
"""

import math
from typing import NamedTuple

__all__ = ["Range", "read_stored"]


class Range(NamedTuple):
    """An inclusive range; ``None`` leaves a side open.  ``default`` is what a reader uses instead of a bad value."""

    low: float | None = None
    high: float | None = None
    default: float | None = None

    def __contains__(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def describe(self):
        """``("between", low, high)``, ``("at_least", low, None)`` or ``("at_most", None, high)``: the words
        are the caller's (translated) business."""
        if self.low is not None and self.high is not None:
            return ("between", self.low, self.high)
        if self.low is not None:
            return ("at_least", self.low, None)
        return ("at_most", None, self.high)


def read_stored(raw, rng, kind=int):
    """Read a stored parameter ``raw`` (a string, or None when unset) as ``kind`` within ``rng``.

    Returns ``(value, problem)``: ``problem`` is None when ``raw`` is usable, or unset (then ``value`` is the
    default); else ``"not_a_number"`` or ``"out_of_range"``, and ``value`` is the default of ``rng``.  A bad
    value is never clamped to the nearest bound: a bound can be a much worse guess than the default (a day
    of retention instead of thirty).
    """
    if raw is None or raw is False or (isinstance(raw, str) and not raw.strip()):
        return kind(rng.default), None
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return kind(rng.default), "not_a_number"
    if not math.isfinite(number) or (kind is int and number != int(number)):  # NaN, or 2.5 for a whole number
        return kind(rng.default), "not_a_number"
    value = kind(number)
    if value not in rng:
        return kind(rng.default), "out_of_range"
    return value, None
