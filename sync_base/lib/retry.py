"""Retry delays: parsing the ``retry_delays`` setting and picking the next delay."""

__all__ = ["DEFAULT_RETRY_DELAYS", "RetryDelaysError", "next_delay", "parse_retry_delays"]

DEFAULT_RETRY_DELAYS = "60,300,900,3600,21600"


class RetryDelaysError(ValueError):
    """The retry delays setting is malformed."""


def parse_retry_delays(text):
    """Parse ``"60,300,900"`` to ``[60, 300, 900]``.

    Each item is a whole number of seconds, at least 1; blanks around commas
    are allowed, empty items are not, and the list must not be empty.
    """
    if not isinstance(text, str) or not text.strip():
        raise RetryDelaysError("retry delays are empty: give comma-separated seconds, e.g. 60,300,900")
    delays = []
    for position, item in enumerate(text.split(","), start=1):
        item = item.strip()
        if not item.isdigit() or not item.isascii():
            raise RetryDelaysError(
                f"retry delay #{position} ({item!r}) is not a whole number of seconds; "
                "expected comma-separated seconds, e.g. 60,300,900"
            )
        value = int(item)
        if value < 1:
            raise RetryDelaysError(f"retry delay #{position} must be at least 1 second")
        delays.append(value)
    return delays


def next_delay(delays, attempt):
    """Delay before attempt ``attempt + 1`` after ``attempt`` failed tries (1-based); the last delay repeats."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    return delays[min(attempt, len(delays)) - 1]
