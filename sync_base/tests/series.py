"""What the suite's tests do differently on Odoo 18.0 and 19.0 (the code's own differences: ``sync_base.compat``).

Tests of every addon import these; the module holds no test case, so
importing it runs nothing twice.
"""

from odoo.tests import common as test_common

from odoo.addons.sync_base import compat


def enter_registry_test_mode(case):
    """Make cursors the registry opens during ``case``'s test wrap the test's cursor; undone at cleanup.

    18.0: ``registry.enter_test_mode(cr)``; 19.0: the test case's
    ``registry_enter_test_mode()``, which registers its own cleanup."""
    if compat.SERIES >= 19:
        case.registry_enter_test_mode(cr=case.cr)
    else:
        case.registry.enter_test_mode(case.cr)
        case.addCleanup(case.registry.leave_test_mode)


def direct_chat(channels, partner_ids):
    """The private chat of ``channels``' user with the partners ``partner_ids`` (created when needed)."""
    if compat.SERIES >= 19:
        return channels._get_or_create_chat(partners_to=partner_ids)
    return channels.channel_get(partners_to=partner_ids)


class AllowAllRequests:
    """For HttpCase classes whose test server is called by the suite's own HTTP clients, as on 18.0.

    The RPC transport calling the test server, a broker acknowledging to it:
    19.0 holds a lock for the test's thread that the server's request
    threads need, and only releases it around the requests of the test's
    own opener and browser (and answers only those, by a cookie).  Each
    request another session sends from the test's thread releases the lock
    too, and is answered.  18.0 needs none of this."""

    def setUp(self):
        super().setUp()
        if compat.SERIES >= 19:
            self.http_request_allow_all = True

    @classmethod
    def _request_handler(cls, session, request, /, **kwargs):
        # both series route every requests.Session.send of a test through this classmethod
        lock = getattr(test_common, "_registry_test_lock", None)  # 19.0's
        if lock is None or isinstance(session, test_common.Opener) or not lock._is_owned():
            # the test's own opener has released the lock already (or another thread sends)
            return super()._request_handler(session, request, **kwargs)
        with test_common.release_test_lock():
            return super()._request_handler(session, request, **kwargs)
