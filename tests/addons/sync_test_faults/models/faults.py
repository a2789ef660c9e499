"""The faults, armed by system parameters of the database and a marker file.

``sync_test_faults.kill_at`` names the point (``freeze``: the claim and the
envelopes are committed, nothing is sent; ``transport``: the transport call
is under way; ``store``: the transport answered, nothing is stored), and
``sync_test_faults.kill_file`` the marker: the process that reaches the point
while the file exists removes it and SIGKILLs itself, so it kills once.
``sync_test_faults.kill_delay`` is how long the transport call runs before
the kill (seconds, default 1).

``sync_test_faults.transaction_delay`` (seconds) keeps the transactions that
freeze the envelopes of a claimed batch and that store a batch's results open
that much longer before they commit: connections terminated while the queue
sends then land inside them.

On the receiving side, ``sync_test_faults.inbound_delay`` makes the inbound
endpoint wait that many seconds after applying a request, in its
transaction; with ``sync_test_faults.inbound_delay_file`` set, only the
request that finds (and removes) that file waits.

Nothing is armed without the parameters: installed everywhere, it changes
nothing.
"""

import logging
import os
import signal
import time

_logger = logging.getLogger(__name__)

PREFIX = "sync_test_faults."


def param(env, name):
    return env["ir.config_parameter"].sudo().get_param(PREFIX + name) or ""


def kill_file(env, point):
    """The marker file when the kill is armed at ``point`` in this database, else ``""``."""
    if param(env, "kill_at") != point:
        return ""
    return param(env, "kill_file")


def take(path):
    """Remove the marker file ``path``; True for the one caller that removed it."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def kill(point):
    _logger.info("sync_test_faults: SIGKILL at %s", point)
    os.kill(os.getpid(), signal.SIGKILL)


def hold(env):
    """Wait ``sync_test_faults.transaction_delay`` seconds, in the caller's transaction."""
    delay = float(param(env, "transaction_delay") or 0)
    if delay:
        time.sleep(delay)
