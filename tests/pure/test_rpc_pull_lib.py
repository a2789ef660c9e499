"""The pull's watermark arithmetic and documents (sync_transport_rpc/lib/pull.py), without Odoo.

Paging against a real remote Odoo, with many records in one second, is in tests/e2e/test_rpc.py.
"""

import datetime

import pytest
from sync_transport_rpc_lib import pull

T = datetime.datetime(2026, 11, 23, 8, 30, 15)


def test_parse_second_drops_the_fraction():
    assert pull.parse_second("2026-11-23 08:30:15") == T
    assert pull.parse_second("2026-11-23 08:30:15.734512") == T
    assert pull.parse_second(False) is None


def test_cursor_keeps_seconds_and_orders_nothing_read_first():
    cursor = pull.Cursor(T.replace(microsecond=500), 7)
    assert cursor.second == T and cursor.last_id == 7
    assert pull.Cursor().key < pull.Cursor(T, 0).key < cursor.key < pull.Cursor(T, 8).key
    assert pull.Cursor(T, 7) == cursor and len({pull.Cursor(T, 7), cursor}) == 1


@pytest.mark.parametrize("caught_up, overlap, expected", [
    (False, 300, pull.Cursor(T, 7)),  # a page ended inside the work: go on exactly there
    (True, 300, pull.Cursor(T - datetime.timedelta(seconds=300), 0)),
    (True, 0, pull.Cursor(T, 0)),
    (True, -5, pull.Cursor(T, 0)),
])
def test_start_cursor_goes_back_by_the_overlap_after_catching_up(caught_up, overlap, expected):
    assert pull.start_cursor(pull.Cursor(T, 7), caught_up, overlap) == expected


def test_start_cursor_from_nothing_reads_everything():
    assert pull.start_cursor(pull.Cursor(), True, 300) == pull.Cursor()


def test_read_page_refuses_an_empty_page():
    with pytest.raises(ValueError):
        pull.read_page(None, "res.partner", [], [], pull.Cursor(), 0)


def test_document_from_a_read_row():
    specs = [("name", "field", "char"), ("email", "field", "char"), ("parent_id", "reference", "many2one"),
             ("country_id", "reference", "many2one"), ("category_id", "reference", "many2many")]
    row = {"id": 5, "name": "Ann", "email": False, "parent_id": [3, "Acme"], "country_id": False,
           "category_id": [8, 9], "write_date": "2026-11-23 08:30:15"}

    def convert(ftype, value):
        return None if value is False else value

    def reference(prop, remote_id, name):
        return {"prop": prop, "id": remote_id, "name": name}

    assert pull.document(row, specs, convert, reference) == {
        "name": "Ann", "email": None,
        "parent_id": {"prop": "parent_id", "id": 3, "name": "Acme"},
        "country_id": None,
        "category_id": [{"prop": "category_id", "id": 8, "name": None},
                        {"prop": "category_id", "id": 9, "name": None}],
    }
