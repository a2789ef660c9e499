"""The run command (bin/run): two databases on the machine's PostgreSQL, two servers, the demo's table.

Run on every series the test command finds: on the second, SYNC_TEST_SERIES names it, and bin/run serves both
databases (those of that series: tools/run_checks.demo_databases) with it."""

import re
import socket
import subprocess
import sys

import pytest

from tests.e2e.conftest import ROOT
from tests.harness.odoo_env import find_all_series, find_series
from tests.harness.pg import PgError, ensure_system_postgres, free_port
from tools.run import MachinePostgres
from tools.run_checks import demo_databases

ROW_RE = re.compile(r"^(?P<type>.+?)\s+(?P<sent>\d+)\s+(?P<done>\d+)\s+(?P<failed>\d+)$", re.MULTILINE)


def run(*args, timeout=900):
    return subprocess.run([sys.executable, str(ROOT / "tools" / "run.py"), *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def listening(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.every_series
def test_the_demo_sends_everything_and_runs_again_safely():
    series = find_series().name
    source_db, target_db = demo_databases(series, series)
    # on the second series the demo runs once, over RPC: the broker's path is the same code, proven there by the
    # Odoo tier's broker tests, and CI's time is counted
    through_broker = series == find_all_series()[0].name
    try:
        pg = MachinePostgres(ensure_system_postgres(log=lambda _text: None))
    except (PgError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"SKIPPED: the machine's PostgreSQL cannot be started here: {exc}")
    # what this test's runs make: the demo databases may hold earlier runs' records, in whatever state
    started = pg.query(source_db, "SELECT now() at time zone 'utc'")[0][0] if pg.exists(source_db) else None
    source_port, target_port = free_port(), free_port()
    ports = ["--source-port", str(source_port), "--target-port", str(target_port)]
    try:
        first = run("--companies", "4", "--products", "3", "--orders", "2", *ports)
        assert first.returncode == 0, first.stdout + first.stderr
        table = {m["type"].strip(): (int(m["sent"]), int(m["done"]), int(m["failed"]))
                 for m in ROW_RE.finditer(first.stdout)}
        # 4 companies and their 16 contacts, 3 products; the tags only when they are new
        assert table["Companies and contacts"] == (20, 20, 0), first.stdout
        assert table["Products"] == (3, 3, 0), first.stdout
        assert table["Sale orders"] == (2, 2, 0), first.stdout
        assert "median latency from the commit to the acknowledgement" in first.stdout
        assert f"http://localhost:{source_port}" in first.stdout
        assert listening(source_port) and listening(target_port), "the servers stay up"
        if through_broker:
            # again, through the broker: the same databases and configuration, new records, nothing made twice
            second = run("--wso2", "--broker-port", str(free_port()), "--companies", "2", "--products", "3",
                         "--orders", "1", *ports)
            assert second.returncode == 0, second.stdout + second.stderr
            table = {m["type"].strip(): (int(m["sent"]), int(m["done"]), int(m["failed"]))
                     for m in ROW_RE.finditer(second.stdout)}
            assert table["Companies and contacts"] == (10, 10, 0), second.stdout
            assert table["Sale orders"] == (1, 1, 0), second.stdout
            assert "sent through the WSO2 broker" in second.stdout
        assert pg.query(source_db, "SELECT count(*) FROM sync_system WHERE code = 'demo_target'") == [(1,)]
        assert pg.query(source_db, "SELECT count(*) FROM sync_data_type")[0][0] == 7
        refs = pg.query(target_db, "SELECT count(*), count(DISTINCT ref) FROM res_partner WHERE ref LIKE 'DEMO-%%'")
        sent = pg.query(source_db, "SELECT count(*) FROM res_partner WHERE ref LIKE 'DEMO-%%'")
        assert refs[0][0] == refs[0][1] == sent[0][0], "every demo partner is on the target once"
        # every confirmed sale order is a purchase order on the target, once, with its three lines
        sold = dict(pg.query(source_db, "SELECT o.name, count(l.id) FROM sale_order o JOIN sale_order_line l "
                                        "ON l.order_id = o.id WHERE o.client_order_ref LIKE 'DEMO-%%' "
                                        # typed: on a machine without the demo databases, started is None
                                        "AND o.create_date >= coalesce(%s::timestamp, '-infinity'::timestamp) "
                                        "GROUP BY 1", (started,)))
        assert len(sold) == (3 if through_broker else 2), sold
        bought = pg.query(target_db, "SELECT o.partner_ref, count(l.id), min(v.name) FROM purchase_order o "
                                     "JOIN purchase_order_line l ON l.order_id = o.id "
                                     "JOIN res_partner v ON v.id = o.partner_id WHERE o.partner_ref = ANY(%s) "
                                     "GROUP BY 1", (list(sold),))
        assert {ref: lines for ref, lines, _vendor in bought} == sold
        assert {vendor for _ref, _lines, vendor in bought} == {"Demo Supplier SA"}
    finally:
        stopped = run("--stop", timeout=120)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not listening(source_port) and not listening(target_port)
