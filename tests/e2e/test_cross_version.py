"""Live synchronization between an Odoo 18.0 and an Odoo 19.0 database, both ways, through the run command.

From 18.0 to 19.0 the source reaches the target over Odoo 19's JSON-2 API
(an API key as bearer token), in plain mode for the master data and in
suite mode for the sale orders that become purchase orders; from 19.0 to
18.0 over JSON-RPC.  Each message must be acknowledged once: every message
done, none failed, and no record twice on the target.  The databases are
the demo's of each pair of series (tools/run_checks.demo_databases), on the
machine's PostgreSQL, as tests/e2e/test_demo.py does for one series.
"""

import subprocess

import pytest

from tests.e2e.test_demo import ROW_RE, listening, run
from tests.harness.odoo_env import find_all_series
from tests.harness.pg import PgError, ensure_system_postgres, free_port
from tools.run import MachinePostgres
from tools.run_checks import demo_databases, demo_protocol

# small: two databases per direction may have to be created, each a few minutes on a busy machine
COUNTS = ["--companies", "2", "--products", "3", "--orders", "1"]


@pytest.fixture(scope="module")
def pg():
    if len(find_all_series()) < 2:
        pytest.skip("SKIPPED: one Odoo series only: set ODOO19_PATH and ODOO19_PYTHON to an Odoo 19.0 tree and its "
                    "virtual environment (with Odoo 18.0 importable by python3) to run the cross-version tests")
    try:
        return MachinePostgres(ensure_system_postgres(log=lambda _text: None))
    except (PgError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"SKIPPED: the machine's PostgreSQL cannot be started here: {exc}")


def sync_across(pg, source_series, target_series):
    """Run the demo from ``source_series`` to ``target_series``, check that everything was acknowledged once, and
    return the run's output."""
    source_db, target_db = demo_databases(source_series, target_series)
    # what this run makes: the databases may hold earlier runs' records, in whatever state
    started = pg.query(source_db, "SELECT now() at time zone 'utc'")[0][0] if pg.exists(source_db) else None
    source_port, target_port = free_port(), free_port()
    try:
        result = run("--source-series", source_series, "--target-series", target_series, *COUNTS,
                     "--source-port", str(source_port), "--target-port", str(target_port), timeout=1800)
        assert result.returncode == 0, result.stdout + result.stderr
        output = result.stdout
        assert f"Source: Odoo {source_series} ({source_db}); target: Odoo {target_series} ({target_db})" in output
        table = {m["type"].strip(): (int(m["sent"]), int(m["done"]), int(m["failed"]))
                 for m in ROW_RE.finditer(output)}
        # 2 companies and their 8 contacts, 3 products, 1 sale order; the tags only when they are new
        assert table["Companies and contacts"] == (10, 10, 0), output
        assert table["Products"] == (3, 3, 0), output
        assert table["Sale orders"] == (1, 1, 0), output
        assert all(sent == done and not failed for sent, done, failed in table.values()), output
        assert listening(source_port) and listening(target_port), "the servers stay up"

        protocol = demo_protocol(target_series)
        systems = dict(pg.query(source_db, "SELECT rpc_mode, rpc_protocol FROM sync_system WHERE code IN "
                                           "('demo_target', 'demo_target_suite')"))
        assert systems == {"plain": protocol, "suite": protocol}
        # this run's messages: the master data in plain mode, the order in suite mode, each done once
        sent = pg.query(source_db, "SELECT s.rpc_mode, m.state, count(*), count(DISTINCT m.uuid) FROM sync_message m "
                                   "JOIN sync_system s ON s.id = m.system_id WHERE m.create_date >= "
                                   # typed: without the databases beforehand, started is None
                                   "coalesce(%s::timestamp, '-infinity'::timestamp) GROUP BY 1, 2", (started,))
        assert {(mode, state) for mode, state, _count, _distinct in sent} == {("plain", "done"), ("suite", "done")}
        assert all(total == distinct for _mode, _state, total, distinct in sent), sent

        # no record twice on the target, and every partner of this run there
        refs = pg.query(target_db, "SELECT count(*), count(DISTINCT ref) FROM res_partner WHERE ref LIKE 'DEMO-%%'")
        assert refs[0][0] == refs[0][1], "a demo partner is twice on the target"
        made = {ref for (ref,) in pg.query(source_db, "SELECT ref FROM res_partner WHERE ref LIKE 'DEMO-%%' AND "
                                                      "create_date >= coalesce(%s::timestamp, '-infinity'::timestamp)",
                                           (started,))}
        assert len(made) == 10
        there = {ref for (ref,) in pg.query(target_db, "SELECT ref FROM res_partner WHERE ref = ANY(%s)",
                                            (sorted(made),))}
        assert there == made
        products = pg.query(target_db, "SELECT count(*), count(DISTINCT default_code) FROM product_template "
                                       "WHERE default_code LIKE 'DEMO-%%'")
        assert products[0][0] == products[0][1], "a demo product is twice on the target"

        # the confirmed sale order is a purchase order on the target, once, with its three lines
        sold = dict(pg.query(source_db, "SELECT o.name, count(l.id) FROM sale_order o JOIN sale_order_line l "
                                        "ON l.order_id = o.id WHERE o.client_order_ref LIKE 'DEMO-%%' "
                                        "AND o.create_date >= coalesce(%s::timestamp, '-infinity'::timestamp) "
                                        "GROUP BY 1", (started,)))
        assert len(sold) == 1, sold
        bought = pg.query(target_db, "SELECT o.partner_ref, count(DISTINCT o.id), count(l.id), min(v.name) "
                                     "FROM purchase_order o JOIN purchase_order_line l ON l.order_id = o.id "
                                     "JOIN res_partner v ON v.id = o.partner_id WHERE o.partner_ref = ANY(%s) "
                                     "GROUP BY 1", (list(sold),))
        assert {ref: (orders, lines) for ref, orders, lines, _vendor in bought} == {
            ref: (1, lines) for ref, lines in sold.items()}
        assert {vendor for _ref, _orders, _lines, vendor in bought} == {"Demo Supplier SA"}
    finally:
        stopped = run("--stop", timeout=120)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not listening(source_port) and not listening(target_port)
    return output


def test_from_18_to_19_over_json2_in_plain_and_suite_mode(pg):
    output = sync_across(pg, "18.0", "19.0")
    assert "sent over JSON-2 (plain mode)" in output
    assert "Test connection of Demo target purchasing (JSON-2, suite): success" in output
    assert "remote suite accepts our token" in output


def test_from_19_to_18_over_jsonrpc(pg):
    output = sync_across(pg, "19.0", "18.0")
    assert "sent over JSON-RPC (plain mode)" in output
    assert "Test connection of Demo target (JSON-RPC): success" in output
