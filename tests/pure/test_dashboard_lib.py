"""What the Dashboard's cards show (sync_queue/lib/dashboard.py), without Odoo."""

import pytest
from sync_queue_lib import dashboard


@pytest.mark.parametrize("seconds, parts", [
    (None, None),
    (0, (0, "s")),
    (-5, (0, "s")),  # a clock a little ahead of the database's
    (59.9, (59, "s")),
    (60, (1, "min")),
    (3 * 60 + 59, (3, "min")),
    (119 * 60, (1, "h")),  # rounded down: it has not waited two hours
    (2 * 3600, (2, "h")),
    (86400 * 3 + 5, (3, "d")),
])
def test_an_age_reads_in_the_largest_unit_it_fills(seconds, parts):
    assert dashboard.age_parts(seconds) == parts


def test_a_card_adds_its_rows_up():
    card = dashboard.card_counts([
        ("pending", 2, 30.0, 0, 0),
        ("retry", 1, 7200.0, 0, 0),
        ("failed", 4, 99999.0, 0, 0),  # final: never the oldest to send, however old
        ("done", 9, None, 2, 5),
    ])
    assert card["counts"]["pending"] == 2
    assert card["counts"]["failed"] == 4
    assert card["counts"]["waiting"] == 0
    assert card["oldest_pending_age_s"] == 7200.0
    assert (card["done_last_hour"], card["done_last_day"]) == (2, 5)


def test_an_empty_card_has_every_state_and_no_age():
    card = dashboard.card_counts([])
    assert set(card["counts"]) == {"pending", "waiting", "sending", "sent", "retry", "done", "failed", "cancelled"}
    assert card["oldest_pending_age_s"] is None
