"""The run command: the suite doing its job between two Odoo databases, within minutes.

    bin/run [--companies N] [--products N] [--source-port 8069] [--target-port 8070]
    bin/run --stop

Makes sure PostgreSQL runs (installing and starting Debian's PostgreSQL 15
when it is missing and this runs as root; otherwise it prints the one
command that would), creates a source and a target database with the suite
(and ``product``) installed, loads a ready configuration on the source
(a library, data types for contact tags, companies and contacts with their
countries, and products) with the target as a plain-mode system over
JSON-RPC, serves each database by its own Odoo server with cron workers
running, creates demo records on the source and prints what became of them:
messages per data type sent, acknowledged and failed, the time taken, and
the median latency from the commit to the acknowledgement.

Everything stays in place: both servers keep running in the background
(``--stop`` stops them).  Running it again restarts the servers, reuses the
databases and the configuration, and sends a new set of demo records.
"""

import argparse
import os
import signal
import statistics
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.odoo_env import ADDONS, OdooMissing, find_odoo
from tests.harness.odoo_server import OdooCommandError, OdooInstance, OdooServer
from tests.harness.pg import PgError, ensure_system_postgres

DEMO = Path(__file__).resolve().parent / "demo"
STATE = Path.home() / ".local" / "share" / "sync-suite" / "demo"
SOURCE_DB, TARGET_DB = "sync_demo_source", "sync_demo_target"
MODULES = [*ADDONS, "product"]
FINAL = ("done", "failed", "cancelled")


class MachinePostgres:
    """The machine's PostgreSQL, as the harness's database instances see a cluster."""

    def __init__(self, args):
        self.args = args

    def odoo_args(self):
        return list(self.args)

    def connect(self, dbname):
        options = dict(zip(self.args[::2], self.args[1::2], strict=True))
        if not options:
            return psycopg2.connect(dbname=dbname)
        return psycopg2.connect(dbname=dbname, host=options["--db_host"], port=options["--db_port"],
                                user=options["--db_user"], password=options["--db_password"])

    def exists(self, dbname):
        with self.connect("postgres") as conn, conn.cursor() as cr:
            cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
            return bool(cr.fetchone())

    def query(self, dbname, sql, params=()):
        conn = self.connect(dbname)
        try:
            with conn.cursor() as cr:
                cr.execute(sql, params)
                return cr.fetchall()
        finally:
            conn.close()


def say(text=""):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def stop_servers():
    """Stop the servers of an earlier run (their pid files are in the state directory)."""
    for pidfile in STATE.glob("*.pid"):
        try:
            pid = int(pidfile.read_text())
            os.killpg(pid, signal.SIGTERM)
            for _i in range(100):
                os.killpg(pid, 0)
                time.sleep(0.1)
        except (ValueError, ProcessLookupError, PermissionError):
            pass
        pidfile.unlink(missing_ok=True)


def serve(instance, port, name):
    server = OdooServer(instance, port=port, cron_threads=2, logfile=STATE / f"{name}.log")
    server.start(timeout=180)
    (STATE / f"{name}.pid").write_text(str(server.proc.pid))
    return server


def wait_for_messages(pg, after, timeout):
    """Poll the source's queue until every change is queued and every new message is final.

    Returns ``(seen, rows)``: ``{message id: (data type, state, seen final at)}`` and the new messages'
    ``(id, data type, state)`` as last read.
    """
    seen, rows = {}, []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = pg.query(SOURCE_DB, "SELECT m.id, d.name, m.state FROM sync_message m "
                                   "JOIN sync_data_type d ON d.id = m.data_type_id WHERE m.id > %s", (after,))
        now = time.time()
        for message_id, data_type, state in rows:
            if state in FINAL and message_id not in seen:
                seen[message_id] = (data_type, state, now)
        changes = pg.query(SOURCE_DB, "SELECT count(*) FROM sync_change")[0][0]
        if rows and not changes and len(seen) == len(rows):
            return seen, rows
        time.sleep(0.1)
    return seen, rows


def report(seen, rows, committed):
    by_type = {}
    for _message_id, data_type, state in rows:
        counts = by_type.setdefault(data_type, {"sent": 0, "done": 0, "failed": 0})
        counts["sent"] += 1
        if state == "done":
            counts["done"] += 1
        elif state in ("failed", "cancelled"):
            counts["failed"] += 1
    width = max([len("data type"), *map(len, by_type)])
    say(f"{'data type'.ljust(width)}  {'messages':>8}  {'acknowledged':>12}  {'failed':>6}")
    for data_type, counts in sorted(by_type.items()):
        say(f"{data_type.ljust(width)}  {counts['sent']:>8}  {counts['done']:>12}  {counts['failed']:>6}")
    latencies = sorted(at - committed for _type, state, at in seen.values() if state == "done")
    if latencies:
        say(f"\n{len(rows)} messages in {max(latencies):.1f} s from the commit; median latency from the commit "
            f"to the acknowledgement {statistics.median(latencies):.2f} s")
    return by_type


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--companies", type=int, default=25, help="demo companies, with 4 contacts each (25)")
    parser.add_argument("--products", type=int, default=50, help="demo products (50)")
    parser.add_argument("--source-port", type=int, default=8069)
    parser.add_argument("--target-port", type=int, default=8070)
    parser.add_argument("--timeout", type=int, default=300, help="seconds to wait for the messages (300)")
    parser.add_argument("--stop", action="store_true", help="stop the demo's servers and exit")
    args = parser.parse_args(argv)
    STATE.mkdir(parents=True, exist_ok=True)
    stop_servers()
    if args.stop:
        say("The demo's servers are stopped; the databases stay.")
        return 0
    try:
        find_odoo()
        pg = MachinePostgres(ensure_system_postgres(log=say))
    except (OdooMissing, PgError) as exc:
        say(str(exc))
        return 2
    source = OdooInstance(pg, SOURCE_DB, with_test_addons=False, data_dir=str(STATE / "data"))
    target = OdooInstance(pg, TARGET_DB, with_test_addons=False, data_dir=str(STATE / "data"))
    try:
        for instance in (source, target):
            if not pg.exists(instance.dbname):
                say(f"Creating {instance.dbname} with the suite installed (about a minute) ...")
                instance.install(MODULES, extra=["--log-level=warn"])
        say("Configuring the target and serving it ...")
        key = target.shell((DEMO / "target_setup.py").read_text())
        serve(target, args.target_port, "target")
        say("Configuring the source and serving it, cron workers running ...")
        setup = source.shell(f"TARGET_PORT = {args.target_port}\nTARGET_DB = {TARGET_DB!r}\nKEY = {key!r}\n"
                             + (DEMO / "source_setup.py").read_text())
        say(f"Test connection: {setup['connection'][1]}")
        serve(source, args.source_port, "source")
        stamp = time.strftime("%H%M%S")
        say(f"Creating {args.companies} companies, {args.companies * 4} contacts and {args.products} products "
            "on the source ...")
        after = source.shell(f"STAMP = {stamp!r}\nCOMPANIES = {args.companies}\nPRODUCTS = {args.products}\n"
                             + (DEMO / "records.py").read_text())
        committed = time.time()
        seen, rows = wait_for_messages(pg, after, args.timeout)
    except OdooCommandError as exc:
        say(f"The demo stopped: {exc}")
        return 1
    say()
    by_type = report(seen, rows, committed)
    say(f"""
Source: http://localhost:{args.source_port}  (database {SOURCE_DB}; login admin, password admin)
        Synchronization > Queue > Outgoing shows every message, its envelope and its attempts.
Target: http://localhost:{args.target_port}  (database {TARGET_DB}; login admin, password admin)
Logs and state: {STATE}   Stop the servers: bin/run --stop""")
    pending = len(rows) - len(seen)
    failed = sum(counts["failed"] for counts in by_type.values())
    if pending or failed or not rows:
        say(f"\n{pending} message(s) still pending, {failed} failed: see the source's queue.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
