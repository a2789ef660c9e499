"""What the suite's tests do differently on Odoo 18.0 and 19.0 (the code's own differences: ``sync_base.compat``).

Tests of every addon import these; the module holds no test case, so
importing it runs nothing twice.
"""

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


def allow_all_requests(case):
    """Let ``case``'s own server answer every request for the whole test, as 18.0 does.

    19.0 answers only the requests that carry the test's cookie (its
    ``url_open`` and browser), so calls the suite makes on its own (the RPC
    transport to the test server, a broker's acknowledgements) would be
    refused; 18.0 needs nothing."""
    if compat.SERIES >= 19:
        # TestCase.enterContext is Python 3.11's; both series run on 3.10
        context = case.allow_requests(all_requests=True)
        context.__enter__()
        case.addCleanup(context.__exit__, None, None, None)


class AllowAllRequests:
    """A mixin for HttpCase classes whose server is called by the suite's own clients (see ``allow_all_requests``)."""

    def setUp(self):
        super().setUp()
        allow_all_requests(self)
