"""When a message is tried again, and when it is given up."""

import datetime

__all__ = ["next_attempt"]


def next_attempt(now, attempt_count, delays, max_attempts, retry_after=None):
    """``(give_up, next_at)`` after ``attempt_count`` failed attempts (1-based).

    The delay is the system's ``delays[attempt_count - 1]`` (the last one
    repeating), or the receiver's ``retry_after`` when that is longer.  Past
    ``max_attempts`` the message is given up (``give_up`` is True and
    ``next_at`` is None).
    """
    if attempt_count >= max_attempts:
        return True, None
    delay = delays[min(attempt_count, len(delays)) - 1]
    if retry_after is not None and retry_after > delay:
        delay = retry_after
    return False, now + datetime.timedelta(seconds=delay)
