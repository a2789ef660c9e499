"""What the Dashboard's cards show, decided without Odoo: how an age reads, how a card's counts add up."""

from . import states

#: (unit, seconds in it), largest first: an age reads in the largest unit it fills at least once
AGE_UNITS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))
#: the windows of the throughput: messages acknowledged in the last hour and in the last day
THROUGHPUT_WINDOWS = {"hour": 3600, "day": 86400}


def age_parts(seconds):
    """``(number, unit)`` of an age for a human, ``unit`` one of ``d``, ``h``, ``min``, ``s``; None for no age.

    Rounded down: a message waiting 119 minutes has waited "1 h", not "2 h"."""
    if seconds is None:
        return None
    seconds = max(int(seconds), 0)
    for unit, size in AGE_UNITS:
        if seconds >= size:
            return seconds // size, unit
    return 0, "s"


def card_counts(rows):
    """A card's figures from ``(state, count, oldest create age in seconds or None, acked in the last hour,
    acked in the last day)`` rows of one system: ``{state: count}`` of every state, the oldest age of a
    message still to send (pending, waiting, retry), and the throughput."""
    counts = dict.fromkeys((state for state, _label in states.STATES), 0)
    oldest = None
    hour = day = 0
    for state, count, age, acked_hour, acked_day in rows:
        counts[state] = counts.get(state, 0) + count
        if state in states.DUE and age is not None:
            oldest = age if oldest is None else max(oldest, age)
        hour += acked_hour or 0
        day += acked_day or 0
    return {"counts": counts, "oldest_pending_age_s": oldest, "done_last_hour": hour, "done_last_day": day}
