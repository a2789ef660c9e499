"""The run command: the suite doing its job between two Odoo databases, within minutes.

    bin/run [--wso2] [--companies N] [--products N] [--orders N] [--source-port 8069] [--target-port 8070]
            [--source-series 18.0|19.0] [--target-series 18.0|19.0]
    bin/run --stop

Makes sure PostgreSQL runs (installing and starting Debian's PostgreSQL 15
when it is missing and this runs as root; otherwise it prints the one
command that would), creates a source and a target database with the suite
(and ``product``) installed, loads a ready configuration on both (a library,
data types for contact tags, companies and contacts with their countries,
and products) with the target as a plain-mode system over JSON-RPC (JSON-2
for an Odoo 19.0 target), serves each database by its own Odoo server with
cron workers running, creates demo records on the source and prints what
became of them: messages per data type sent, acknowledged and failed, the
time taken, and the median latency from the commit to the acknowledgement.

When Odoo's ``sale`` and ``purchase`` addons are there, ``sale`` is
installed on the source and ``purchase`` on the target, and confirmed sale
orders (with their lines) become purchase orders on the target: through
JSON-RPC (JSON-2 for a 19.0 target) in suite mode, the target applying them
with its own mappings.

Across Odoo series: ``--source-series`` and ``--target-series`` (18.0 or
19.0; by default the series the test harness finds first, or the one
``SYNC_TEST_SERIES`` names) choose the Odoo that installs and serves each
database, with its own interpreter and addons path (Odoo 19.0 is found with
``ODOO19_PATH`` and ``ODOO19_PYTHON``: see tests/harness/odoo_env.py).  The
source reaches an Odoo 19.0 target over its JSON-2 API, with the target
connector's API key as bearer token, and an 18.0 target over JSON-RPC::

    export ODOO19_PATH=/opt/odoo19 ODOO19_PYTHON=/opt/odoo19-venv/bin/python
    bin/run --target-series 19.0 --companies 2 --products 3 --orders 1
    bin/run --source-series 19.0 --target-series 18.0

Each pair of series has databases of its own (a database made by one series
cannot be served by another without a migration): ``sync_demo_source`` and
``sync_demo_target`` between two 18.0 databases, ``sync_demo_source_19`` and
``sync_demo_target_19`` between two 19.0 ones, ``sync_demo_source_18_to_19``
and ``sync_demo_target_18_to_19`` from 18.0 to 19.0, and so on.  A database
found made by another series than the one that is to serve it is dropped
and created again, saying so.

With ``--wso2`` everything goes through the WSO2 transport instead, to the
loopback broker of the test suite (``sync_transport_wso2/tests/
broker_server.py``), which relays each envelope to the target's
``/sync/demo_broker/messages`` and posts the target's answer back to the
source's ``/sync/demo_broker/acks``.

Everything stays in place: both servers keep running in the background
(``--stop`` stops them).  Running it again restarts the servers, reuses the
databases (updating the suite in them, since its code may have changed) and
the configuration, and sends a new set of demo records.

A database is only reused when it is sound (see ``tools/run_checks.py``):
one left half-initialised (modules to install, upgrade or remove, ``base``
without an installed version, the suite missing, not an Odoo database) or
made by another series of Odoo is
dropped and created again, saying why.  A database is created under a
temporary name and renamed once its installation is complete, so a run
killed while installing leaves nothing that looks reusable.  Once served,
each database must be processed by Odoo's cron workers: when Odoo skips it,
the run stops at once with the reason; when no message comes of the demo
records, it says why instead of printing an empty table.
"""

import argparse
import copy
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import requests
from psycopg2 import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.odoo_env import ADDONS, OdooMissing, find_series
from tests.harness.odoo_server import OdooCommandError, OdooInstance, OdooServer
from tests.harness.pg import PgError, ensure_system_postgres
from tools.run_checks import (
    cron_problem,
    database_problem,
    databases_to_recreate,
    demo_databases,
    demo_protocol,
    filestore_problem,
    scheduler_problem,
    why_no_messages,
)

DEMO = Path(__file__).resolve().parent / "demo"
BROKER = ROOT / "sync_transport_wso2" / "tests" / "broker_server.py"
STATE = Path.home() / ".local" / "share" / "sync-suite" / "demo"
# the databases of a demo between two 18.0 databases (demo_databases() names those of the other pairs)
SOURCE_DB, TARGET_DB = demo_databases("18.0", "18.0")
SERIES = ("18.0", "19.0")
PROTOCOL_NAMES = {"json2": "JSON-2", "jsonrpc": "JSON-RPC"}
MODULES = [*ADDONS, "product"]
FINAL = ("done", "failed", "cancelled")
# a database is installed under this suffix and renamed when complete: a run killed while installing leaves
# only a database of this name, which the next run drops, never a half-initialised demo database
INSTALLING = "_installing"
CRON_CHECK_TIMEOUT = 90
FILESTORE_SAMPLE = 20


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

    def query(self, dbname, query, params=()):
        conn = self.connect(dbname)
        try:
            with conn.cursor() as cr:
                cr.execute(query, params)
                return cr.fetchall()
        finally:
            conn.close()

    def execute(self, dbname, statement, params=()):
        """Run ``statement`` in ``dbname``, committed at once (a notification is sent on commit only)."""
        conn = self.connect(dbname)
        conn.autocommit = True
        try:
            with conn.cursor() as cr:
                cr.execute(statement, params)
        finally:
            conn.close()

    def psql(self, query, dbname="postgres"):
        """What ``psql -At -c query`` prints: the harness's OdooInstance reads a cluster this way."""
        return "\n".join("|".join("" if value is None else str(value) for value in row)
                         for row in self.query(dbname, query)).strip()

    def drop(self, dbname):
        """Drop ``dbname``, ending whatever session an interrupted run left on it."""
        self.execute("postgres", sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))

    def rename(self, old, new):
        self.execute("postgres", sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(old),
                                                                                   sql.Identifier(new)))

    def modules(self, dbname):
        """``{name: (state, latest_version)}`` of ``dbname``'s modules, or None when it is not an Odoo database."""
        if not self.query(dbname, "SELECT to_regclass('ir_module_module') IS NOT NULL")[0][0]:
            return None
        return {name: (state, version) for name, state, version in
                self.query(dbname, "SELECT name, state, latest_version FROM ir_module_module")}


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


def orders_available(instance):
    """Whether Odoo's ``sale`` and ``purchase`` addons are on the addons path."""
    paths = [Path(path) for path in instance.addons_path.split(",")]
    return all(any((path / addon / "__manifest__.py").is_file() for path in paths) for addon in ("sale", "purchase"))


def data_dir(series):
    """Odoo's data directory for the databases of ``series``: a series' sessions are not the other's."""
    return str(STATE / ("data" if series.major == 18 else f"data-{series.name}"))


def filestore(instance, dbname):
    return Path(instance.data_dir) / "filestore" / dbname


def drop_database(pg, instance, dbname):
    pg.drop(dbname)
    shutil.rmtree(filestore(instance, dbname), ignore_errors=True)


def port_in_use(port):
    """Whether something listens on the loopback ``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def check_ports(ports):
    """Raise :class:`OdooCommandError` when one of ``ports`` (``{option: port}``) is taken: the demo's own servers
    are stopped by then, so it is another program's."""
    for option, port in ports.items():
        if port_in_use(port):
            raise OdooCommandError(f"port {port} is in use by another program (not a server of this demo): stop it "
                                   f"or use {option}")


def stored_files_problem(pg, instance, dbname):
    """Why ``dbname``'s files are gone from its filestore (a sample checked), or None."""
    stored = [name for (name,) in pg.query(dbname, "SELECT DISTINCT store_fname FROM ir_attachment WHERE "
                                                   "store_fname IS NOT NULL ORDER BY store_fname LIMIT %s",
                                           (FILESTORE_SAMPLE,))]
    directory = filestore(instance, dbname)
    return filestore_problem(stored, {name for name in stored if (directory / name).is_file()})


def create_database(pg, instance, modules):
    """Create ``instance``'s database with ``modules``: installed under a temporary name, renamed once complete."""
    building = copy.copy(instance)
    building.dbname = instance.dbname + INSTALLING
    drop_database(pg, instance, building.dbname)
    say(f"Creating {instance.dbname} with the suite installed, on Odoo {instance.series.name} (a minute or two) ...")
    building.install(modules, extra=["--log-level=warn"])
    problem = database_problem(pg.modules(building.dbname), modules, instance.series.name)
    if problem:
        raise OdooCommandError(f"the installation of {instance.dbname} ended, but {problem}")
    # the files first, the database last: a run killed in between leaves the database under its temporary name
    # (dropped by the next run), never a final database without its files; the files of a database of that name
    # dropped by other means are not this one's
    shutil.rmtree(filestore(instance, instance.dbname), ignore_errors=True)
    if filestore(instance, building.dbname).is_dir():
        filestore(instance, building.dbname).rename(filestore(instance, instance.dbname))
    pg.rename(building.dbname, instance.dbname)


def reuse_problem(pg, instance):
    """Why ``instance``'s database cannot be reused (it does not exist, is half-initialised, lost its files), or
    None; what an interrupted installation left under the temporary name is dropped here."""
    leftover = instance.dbname + INSTALLING
    if pg.exists(leftover):
        say(f"Dropping {leftover}: the installation of an earlier run that was interrupted.")
        drop_database(pg, instance, leftover)
    if not pg.exists(instance.dbname):
        return "it does not exist"
    return database_problem(pg.modules(instance.dbname), MODULES, instance.series.name) or stored_files_problem(
        pg, instance, instance.dbname)


def ensure_databases(pg, wanted):
    """Create the source and the target (``[(instance, modules)]``), or reuse them when both are sound.

    When one must be created again, so is the other (each one's sync state points at the other's records).
    """
    plan = databases_to_recreate({instance.dbname: reuse_problem(pg, instance) for instance, _modules in wanted})
    for instance, modules in wanted:
        reason = plan.get(instance.dbname)
        if reason is None:
            ensure_installed(pg, instance, modules)
            continue
        if reason != "it does not exist":
            say(f"{instance.dbname} cannot be reused: {reason}. Dropping it and creating it again.")
        drop_database(pg, instance, instance.dbname)
        create_database(pg, instance, modules)


def ensure_installed(pg, instance, modules):
    """Reuse the sound database of ``instance``: install what of ``modules`` it lacks, update the suite."""
    # the suite's code may be newer than the database (a pull since the last run): update it first, as a
    # deployment does; anything else loading the registry before (installing a module) would read fields the
    # database does not have yet
    say(f"Updating the suite in {instance.dbname} ...")
    instance.run(["-u", ",".join(ADDONS), "--stop-after-init", "--log-level=warn"])
    installed = {name for name, (state, _version) in pg.modules(instance.dbname).items() if state == "installed"}
    missing = [module for module in modules if module not in installed]
    if missing:
        say(f"Installing {', '.join(missing)} in {instance.dbname} ...")
        instance.install(missing, extra=["--log-level=warn"])


def cron_processes(pg, server, timeout=CRON_CHECK_TIMEOUT):
    """Make sure the cron workers of ``server`` process its database: wake the queue's scheduler and wait until it
    has run; raise :class:`OdooCommandError` with the reason as soon as Odoo says it skips the database."""
    dbname = server.instance.dbname
    say(f"Checking that Odoo's cron workers process {dbname} ...")
    rows = pg.query(dbname, "SELECT c.id, c.active, c.lastcall FROM ir_cron c JOIN ir_model_data d ON "
                            "d.model = 'ir.cron' AND d.res_id = c.id WHERE d.module = 'sync_queue' "
                            "AND d.name = 'ir_cron_create_queue'")
    problem = scheduler_problem([(cron_id, active) for cron_id, active, _lastcall in rows], dbname)
    if problem:
        raise OdooCommandError(problem)
    (cron_id, _active, before), = rows
    # what ir.cron's _trigger() does: a trigger due now, and a notification that wakes the workers
    pg.execute(dbname, "INSERT INTO ir_cron_trigger (cron_id, call_at) VALUES (%s, now() at time zone 'utc')",
               (cron_id,))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pg.execute("postgres", "SELECT pg_notify('cron_trigger', %s)", (dbname,))
        problem = cron_problem(server.log_tail(200_000), dbname)
        if problem:
            raise OdooCommandError(problem)
        (lastcall,), = pg.query(dbname, "SELECT lastcall FROM ir_cron WHERE id = %s", (cron_id,))
        if lastcall and lastcall != before:
            return
        time.sleep(0.5)
    raise OdooCommandError(f"Odoo's cron workers did not process {dbname} within {timeout} s: see {server.logfile}")


def start_broker(port):
    """The loopback broker, in the background; returns its URL."""
    log = STATE / "broker.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, str(BROKER), "--port", str(port)], stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    (STATE / "broker.pid").write_text(str(process.pid))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if "listening on" in log.read_text():
            return f"http://127.0.0.1:{port}"
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise OdooCommandError(f"the broker did not start: {log.read_text()[-2000:]}")


def serve(instance, port, name):
    server = OdooServer(instance, port=port, cron_threads=2, logfile=STATE / f"{name}.log")
    # the pid file right away: a run interrupted while the server starts leaves a server bin/run --stop stops
    server.spawn()
    (STATE / f"{name}.pid").write_text(str(server.proc.pid))
    server.wait_ready(timeout=180)
    return server


def wait_for_messages(pg, after, timeout, server):
    """Poll the source's queue until every change is queued and every new message is final.

    Returns ``(seen, rows)``: ``{message id: (data type, state, seen final at)}`` and the new messages'
    ``(id, data type, state)`` as last read.
    """
    seen, rows = {}, []
    dbname = server.instance.dbname
    deadline = time.monotonic() + timeout
    nothing_since = None
    while time.monotonic() < deadline:
        rows = pg.query(dbname, "SELECT m.id, d.name, m.state FROM sync_message m "
                                "JOIN sync_data_type d ON d.id = m.data_type_id WHERE m.id > %s", (after,))
        now = time.time()
        for message_id, data_type, state in rows:
            if state in FINAL and message_id not in seen:
                seen[message_id] = (data_type, state, now)
        changes = pg.query(dbname, "SELECT count(*) FROM sync_change")[0][0]
        if rows and not changes and len(seen) == len(rows):
            return seen, rows
        # the changes are committed with the records: neither a change nor a message for a while, nothing was
        # captured, and waiting longer changes nothing
        nothing_since = (nothing_since or time.monotonic()) if not rows and not changes else None
        if nothing_since and time.monotonic() - nothing_since > 15:
            return seen, rows
        problem = cron_problem(server.log_tail(200_000), dbname)
        if problem:
            raise OdooCommandError(problem)
        time.sleep(0.1)
    return seen, rows


def explain_no_messages(pg, dbname, committed, timeout):
    """Why no message came of the demo records in the source ``dbname`` (they were committed at ``committed``, a Unix
    time; the run waited ``timeout`` seconds at most)."""
    if time.time() - committed >= timeout:
        return f"No message was seen: the timeout ({timeout} s) passed before the queue's scheduler turned the " \
               "demo records' changes into messages (--timeout sets it)."
    pending = pg.query(dbname, "SELECT count(*) FROM sync_change")[0][0]
    enabled = pg.query(dbname, "SELECT count(*) FROM sync_data_type WHERE enabled")[0][0]
    lastcall = pg.query(dbname, "SELECT extract(epoch FROM c.lastcall) FROM ir_cron c JOIN ir_model_data d ON "
                                "d.model = 'ir.cron' AND d.res_id = c.id WHERE d.module = 'sync_queue' "
                                "AND d.name = 'ir_cron_create_queue'")
    ran = bool(lastcall and lastcall[0][0] and float(lastcall[0][0]) >= committed - 1)
    return why_no_messages(pending, enabled, ran)


def report(phases):
    """Print the table of ``phases`` (``(seen, rows, committed)`` each) and return the counts per data type."""
    by_type, latencies, rows = {}, [], []
    for seen, phase_rows, committed in phases:
        rows += phase_rows
        latencies += [at - committed for _type, state, at in seen.values() if state == "done"]
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
    if latencies:
        say(f"\n{len(rows)} messages, the last acknowledged {max(latencies):.1f} s after its commit; median latency "
            f"from the commit to the acknowledgement {statistics.median(latencies):.2f} s")
    return by_type


def count(text):
    """An argparse type: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative: give 0 or more")
    return value


def positive(text):
    """An argparse type: a whole number, 1 or more."""
    value = count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is too short: give 1 or more")
    return value


def main(argv=None):
    """Run the demo (see the module's docstring); Ctrl+C at any point says how to go on, without a traceback."""
    try:
        return _run(argv)
    except KeyboardInterrupt:
        # what an installation left under its temporary name is dropped by the next run
        say(f"\nInterrupted. Run bin/run again to go on; bin/run --stop stops the servers ({STATE}).")
        return 130


def _run(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wso2", action="store_true", help="send through the WSO2 transport and the loopback broker")
    parser.add_argument("--companies", type=count, default=25, help="demo companies, with 4 contacts each (25)")
    parser.add_argument("--products", type=count, default=50, help="demo products (50)")
    parser.add_argument("--orders", type=count, default=10,
                        help="confirmed sale orders of 3 lines, when sale and purchase are there (10; 0: none)")
    parser.add_argument("--source-port", type=int, default=8069)
    parser.add_argument("--target-port", type=int, default=8070)
    parser.add_argument("--broker-port", type=int, default=8071, help="the loopback broker's port, with --wso2")
    parser.add_argument("--timeout", type=positive, default=300, help="seconds to wait for the messages (300)")
    parser.add_argument("--source-series", choices=SERIES,
                        help="the Odoo series that installs and serves the source (default: the first found, or "
                             "SYNC_TEST_SERIES)")
    parser.add_argument("--target-series", choices=SERIES,
                        help="the Odoo series of the target (default: the first found, or SYNC_TEST_SERIES); a 19.0 "
                             "target is reached over JSON-2 with an API key, an 18.0 one over JSON-RPC")
    parser.add_argument("--stop", action="store_true", help="stop the demo's servers and exit")
    args = parser.parse_args(argv)
    STATE.mkdir(parents=True, exist_ok=True)
    stop_servers()
    if args.stop:
        say("The demo's servers are stopped; the databases stay.")
        return 0
    try:
        # each database by the Odoo of its series; by default the series of this process (SYNC_TEST_SERIES)
        source_series = find_series(args.source_series)
        target_series = find_series(args.target_series)
        pg = MachinePostgres(ensure_system_postgres(log=say))
    except (OdooMissing, PgError) as exc:
        say(str(exc))
        return 2
    try:
        check_ports({"--source-port": args.source_port, "--target-port": args.target_port,
                     **({"--broker-port": args.broker_port} if args.wso2 else {})})
    except OdooCommandError as exc:
        say(f"The demo stopped: {exc}")
        return 1
    source_db, target_db = demo_databases(source_series.name, target_series.name)
    source = OdooInstance(pg, source_db, with_test_addons=False, data_dir=data_dir(source_series),
                          series=source_series)
    target = OdooInstance(pg, target_db, with_test_addons=False, data_dir=data_dir(target_series),
                          series=target_series)
    orders = args.orders if args.companies and args.products >= 3 and orders_available(source) \
        and orders_available(target) else 0
    transport = "wso2" if args.wso2 else "rpc"
    protocol = demo_protocol(target_series.name)
    say(f"Source: Odoo {source_series.name} ({source_db}); target: Odoo {target_series.name} ({target_db}), "
        f"reached over {PROTOCOL_NAMES[protocol]}.")
    phases = []
    try:
        ensure_databases(pg, [(source, [*MODULES, "sale"] if orders else MODULES),
                              (target, [*MODULES, "purchase"] if orders else MODULES)])
        broker_url = start_broker(args.broker_port) if args.wso2 else f"http://127.0.0.1:{args.broker_port}"
        say("Configuring the target and serving it ...")
        mappings = (DEMO / "mappings.py").read_text()
        target_setup = target.shell(f"ORDERS = {bool(orders)}\n" + mappings + (DEMO / "target_setup.py").read_text())
        target_server = serve(target, args.target_port, "target")
        cron_processes(pg, target_server)
        say("Configuring the source and serving it, cron workers running ...")
        setup = source.shell(
            f"TARGET_PORT = {args.target_port}\nTARGET_DB = {target_db!r}\nKEY = {target_setup['key']!r}\n"
            f"PROTOCOL = {protocol!r}\nPROTOCOL_NAME = {PROTOCOL_NAMES[protocol]!r}\n"
            f"SUITE_TOKEN = {target_setup['tokens']['demo_source']!r}\nTRANSPORT = {transport!r}\n"
            f"BROKER_URL = {broker_url!r}\nORDERS = {bool(orders)}\n"
            + mappings + (DEMO / "source_setup.py").read_text())
        for name, (kind, message) in setup["connections"].items():
            say(f"Test connection of {name}: {kind}: {message}")
        source_server = serve(source, args.source_port, "source")
        cron_processes(pg, source_server)
        if args.wso2:
            requests.post(f"{broker_url}/_control", timeout=10, json={
                "mode": "async",
                "relay": {"url": f"{target_server.url}/sync/demo_broker/messages",
                          "token": target_setup["tokens"]["demo_broker"]},
                "ack": {"url": f"{source_server.url}/sync/demo_broker/acks", "token": setup["ack_token"]},
            }).raise_for_status()
        stamp = time.strftime("%H%M%S")
        say(f"Creating {args.companies} companies, {args.companies * 4} contacts and {args.products} products "
            f"on the source, sent "
            f"{'through the WSO2 broker' if args.wso2 else f'over {PROTOCOL_NAMES[protocol]} (plain mode)'} ...")
        after = source.shell(f"STAMP = {stamp!r}\nCOMPANIES = {args.companies}\nPRODUCTS = {args.products}\n"
                             + (DEMO / "records.py").read_text())
        committed = time.time()
        phases.append((*wait_for_messages(pg, after, args.timeout, source_server), committed))
        if orders:
            say(f"Confirming {orders} sale orders for them, which become purchase orders on the target ...")
            after = source.shell(f"STAMP = {stamp!r}\nORDERS = {orders}\n" + (DEMO / "orders.py").read_text())
            committed = time.time()
            phases.append((*wait_for_messages(pg, after, args.timeout, source_server), committed))
    except (OdooCommandError, requests.RequestException, psycopg2.Error, OSError) as exc:
        say(f"The demo stopped: {exc}")
        return 1
    say()
    if not any(rows for _seen, rows, _committed in phases):
        # never an empty table: why nothing was sent is what the person who ran it needs
        say(explain_no_messages(pg, source_db, phases[0][2], args.timeout))
        say(f"Logs and state: {STATE}   Stop the servers: bin/run --stop")
        return 1
    by_type = report(phases)
    say()
    say(f"Source: http://localhost:{args.source_port}  (Odoo {source_series.name}, database {source_db}; login admin, "
        "password admin)")
    say("        Synchronization > Queue > Outgoing shows every message, its envelope and its attempts.")
    say(f"Target: http://localhost:{args.target_port}  (Odoo {target_series.name}, database {target_db}; login admin, "
        "password admin)")
    say("        Synchronization > Queue > Incoming shows what the source sent in suite mode or through the broker.")
    say(f"Logs and state: {STATE}   Stop the servers: bin/run --stop")
    pending = sum(len(rows) - len(seen) for seen, rows, _committed in phases)
    failed = sum(counts["failed"] for counts in by_type.values())
    empty = [committed for _seen, rows, committed in phases if not rows]
    if empty:
        say("\nThe sale orders made no message. " + explain_no_messages(pg, source_db, empty[0], args.timeout))
    if pending or failed or empty:
        say(f"\n{pending} message(s) still pending when the timeout ({args.timeout} s) passed, {failed} failed: "
            "see the source's queue.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
