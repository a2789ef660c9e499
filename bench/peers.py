"""``bench/run.py --only peers``: the suite beside OCA's queue_job, the same task in one run.

The task: ``count`` partners created on a source in one transaction
(``peers_partners.py``), pushed to a plain Odoo target (``base`` only, an
API-key user) served by its own process, threaded as in bench_rpc.  Three
ways, taking turns ``rounds`` times with the target's own in-process batch
create (``rpc_inprocess.py``, rolled back):

1. the suite, plain mode over JSON-RPC: a copy of the bench database, a
   system and a data type of its own (``rpc_push_setup.py``), its two
   schedulers run by ``rpc_push_pump.py`` as bench_rpc does; the time is the
   pump's, from its start (the changes committed) to the last message done,
   acknowledged by the target in the call;
2. OCA's ``queue_job`` as integrators use it with a connector: a database
   with queue_job and ``bench/addons/bench_queue_job_peer``, whose ``create``
   enqueues one job per partner; each job makes one ``execute_kw`` call
   (``res.partner.load()`` with an external identifier, the method the
   suite's plain mode calls) on the target;
3. the same with one job per 100 partners, queue_job's best case.

queue_job is OCA's wheel (``odoo-addon-queue_job``, pinned: later 18.0
releases need Odoo's ``api.private``), installed with pip into a temporary
folder at run time, never kept in the repository
(``SYNC_BENCH_QUEUE_JOB_WHEEL`` may name a wheel file already downloaded).
Its jobs run as in production: a server of that database started with
``--load=web,queue_job`` and ``--workers=4`` (prefork; no cron worker: the
runner runs the jobs, and queue_job's crons have nothing to do within the
benchmark's minutes), whose job runner reads the channels ``root:4`` from the
``[queue_job]`` section of its configuration file.  For ways 2 and 3 the time
runs from the commit of the partners (and of their jobs) to the moment the
target holds all of them, its count polled in PostgreSQL every ``POLL_S``.

After each way, every partner of that way must be on the target exactly once
(by reference), every message or job done, none failed; the runner's log
must show the channel and the database it served, and as many jobs asked
for as were made.  The figure is partners per second end to end, and its
ratio to the target's in-process create of the same run; the best round of
each is kept, every round is in the JSON.  Beside it, the seconds of the
source's transaction that created the partners (the suite's capture, or
queue_job's enqueuing, included), which no rate counts: the cost each way
adds to the user's own transaction.
"""

import ast
import concurrent.futures
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

from tests.harness.odoo_server import OdooInstance, OdooServer, log_problems

BENCH = Path(__file__).resolve().parent
QUEUE_JOB_VERSION = "18.0.1.6.1"
QUEUE_JOB_REQUIREMENT = f"odoo-addon-queue_job=={QUEUE_JOB_VERSION}"
WHEEL_ENV = "SYNC_BENCH_QUEUE_JOB_WHEEL"
CHANNELS = "root:4"
WORKERS = 4
BATCH_SIZE = 100  # bench_queue_job_peer's BATCH_SIZE
SUITE_CODE = "bench_peers"
PREFIXES = {"suite": "PEERS-", "record": "QJR-", "batch": "QJB-"}
POLL_S = 0.05
FINISHED = {"done", "failed", "cancelled"}  # queue_job's states of a job that will not run again
WAY_TIMEOUT_S = 1800
RUNNER_READY_TIMEOUT_S = 90
WAYS = (
    # key, label in the table
    ("inprocess_create", "target's in-process batch create"),
    ("suite_plain_push", "suite, plain mode over JSON-RPC"),
    ("queue_job_per_record", "queue_job, one job per record"),
    ("queue_job_batch100", f"queue_job, one job per {BATCH_SIZE} records"),
)

PEER_SETUP = """
set_param = env["ir.config_parameter"].set_param
for name, value in (("url", URL), ("db", DATABASE), ("login", "sync_remote"), ("key", KEY),
                    ("record_prefix", RECORD_PREFIX), ("batch_prefix", BATCH_PREFIX)):
    set_param("bench_queue_job_peer." + name, value)
result = env["ir.module.module"].search([("name", "=", "queue_job")]).latest_version
"""


def _pip_install(python, folder, *requirements):
    proc = subprocess.run([python, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", "--quiet",
                           "--target", str(folder), *requirements],
                          capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"peers: pip could not install {' '.join(requirements)}:\n{proc.stderr[-3000:]}")


def _install_queue_job(python, folder):
    """queue_job's wheel and the Python distributions it lacks, into ``folder``; returns (its addons folder,
    whether ``folder`` must be on the PYTHONPATH)."""
    _pip_install(python, folder, os.environ.get(WHEEL_ENV) or QUEUE_JOB_REQUIREMENT)
    addons = folder / "odoo" / "addons"
    manifest = ast.literal_eval((addons / "queue_job" / "__manifest__.py").read_text())
    if manifest["version"] != QUEUE_JOB_VERSION:
        raise RuntimeError(f"peers: queue_job {manifest['version']} installed, not {QUEUE_JOB_VERSION}")
    needed = manifest.get("external_dependencies", {}).get("python", [])
    missing = [name for name in needed
               if subprocess.run([python, "-c", f"import {name}"], capture_output=True, check=False).returncode]
    if missing:
        _pip_install(python, folder, *missing)
    return addons, bool(missing)


def _connect(cluster, dbname):
    db = psycopg2.connect(host="127.0.0.1", port=cluster.port, user=cluster.user, password=cluster.password,
                          dbname=dbname, connect_timeout=10)
    db.autocommit = True  # each query sees what is committed
    return db


def _count_refs(db, prefix):
    with db.cursor() as cr:
        cr.execute("SELECT count(*) FROM res_partner WHERE ref LIKE %s", [prefix + "%"])
        return cr.fetchone()[0]


def _check_target(db, way, prefix, count):
    """Every partner ``<prefix><i:05d>`` on the target exactly once, and no other of that prefix."""
    with db.cursor() as cr:
        cr.execute("SELECT ref FROM res_partner WHERE ref LIKE %s", [prefix + "%"])
        arrived = sorted(ref for (ref,) in cr.fetchall())
    expected = [f"{prefix}{i:05d}" for i in range(count)]
    if arrived != expected:
        raise RuntimeError(f"peers {way}: not every partner arrived once: {len(arrived)} partners "
                           f"({len(set(arrived))} refs) of {prefix}* on the target, {count} sent")


def _job_states(db, after_id):
    with db.cursor() as cr:
        cr.execute("SELECT state, count(*) FROM queue_job WHERE id > %s GROUP BY state", [after_id])
        return dict(cr.fetchall())


def _failed_job(db, after_id):
    with db.cursor() as cr:
        cr.execute("SELECT uuid, exc_info FROM queue_job WHERE id > %s AND state = 'failed' LIMIT 1", [after_id])
        return cr.fetchone()


def _queue_job_way(peer, peer_db, target_db, mode, round_, count):
    """Partners per second of one way of queue_job, from the commit that enqueued the jobs to the last partner on
    the target; checked."""
    way = f"queue_job {mode} round {round_}"
    prefix = f"{PREFIXES[mode]}{round_}-"
    jobs = count if mode == "record" else math.ceil(count / BATCH_SIZE)
    with peer_db.cursor() as cr:
        cr.execute("SELECT coalesce(max(id), 0) FROM queue_job")
        last_job = cr.fetchone()[0]
    code = f"PREFIX = {PREFIXES[mode]!r}\nROUND = {round_}\nN = {count}\n" + (BENCH / "peers_partners.py").read_text()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        created = pool.submit(peer.shell, code, 3600)
        deadline = time.monotonic() + WAY_TIMEOUT_S
        polls = 0
        while True:
            arrived, now = _count_refs(target_db, prefix), time.time()
            if arrived >= count:
                break
            if created.done() and created.exception():
                raise created.exception()
            polls += 1
            if polls % 20 == 0:
                failed = _failed_job(peer_db, last_job)
                if failed:
                    raise RuntimeError(f"peers {way}: job {failed[0]} failed:\n{failed[1]}")
                states = _job_states(peer_db, last_job)
                if created.done() and not set(states) - FINISHED and _count_refs(target_db, prefix) < count:
                    raise RuntimeError(f"peers {way}: every job finished ({states}), and only {arrived} of {count} "
                                       "partners are on the target")
            if time.monotonic() > deadline:
                raise RuntimeError(f"peers {way}: {arrived} of {count} partners on the target after {WAY_TIMEOUT_S} s; "
                                   f"jobs {_job_states(peer_db, last_job)}")
            time.sleep(POLL_S)
        committed = created.result()
    if committed["pending_jobs_at_commit"] != jobs:
        raise RuntimeError(f"peers {way}: {committed['pending_jobs_at_commit']} jobs enqueued, not {jobs}")
    # the last job commits its own state after the target answered its call
    deadline = time.monotonic() + 120
    while set(_job_states(peer_db, last_job)) - FINISHED and time.monotonic() < deadline:
        time.sleep(POLL_S)
    states = _job_states(peer_db, last_job)
    if states != {"done": jobs}:
        failed = _failed_job(peer_db, last_job)
        raise RuntimeError(f"peers {way}: jobs {states}, not {jobs} done" + (f"; {failed[1]}" if failed else ""))
    _check_target(target_db, way, prefix, count)
    return count / (now - committed["committed"]), committed["seconds"]


def _suite_way(suite, target_db, round_, count):
    """Partners per second of the suite's plain push, the pump's time (bench_rpc's pump), and the seconds of the
    transaction that created them; checked."""
    created = suite.shell(f"PREFIX = {PREFIXES['suite']!r}\nROUND = {round_}\nN = {count}\n"
                          + (BENCH / "peers_partners.py").read_text())
    pumped = suite.shell(f"CODE = {SUITE_CODE!r}\n" + (BENCH / "rpc_push_pump.py").read_text(), timeout=3600)
    if pumped["states"] != {"done": count * (round_ + 1)}:
        raise RuntimeError(f"peers suite round {round_}: not every message done: {pumped['states']}")
    _check_target(target_db, f"suite round {round_}", f"{PREFIXES['suite']}{round_}-", count)
    return count / pumped["seconds"], created["seconds"]


def _runner_log(server):
    """What the job runner wrote in its server's log: its channels, the databases it served, the jobs it asked for."""
    with server.logfile.open("rb") as log:
        log.seek(server.log_start)
        text = log.read().decode(errors="replace")
    return {
        "channels": re.findall(r"Configured channel: (\S+)", text),
        "ready": re.findall(r"queue job runner ready for db (\S+)", text),
        "jobs_asked": len(re.findall(r"asking Odoo to run job ", text)),
        "problems": log_problems(text),
    }


def _wait_runner_ready(server, dbname):
    deadline = time.monotonic() + RUNNER_READY_TIMEOUT_S
    while dbname not in _runner_log(server)["ready"]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"peers: queue_job's runner not ready for {dbname} within {RUNNER_READY_TIMEOUT_S} s; "
                               f"log:\n{server.log_tail()}")
        time.sleep(0.5)


def _table(figures, rounds, count):
    lines = [(f"\npeers: {count} partners a way, best of {rounds} rounds, queue_job "
              f"{figures['peers_queue_job_version']} ({WORKERS} workers, channels {CHANNELS})"),
             f"{'way':40}  {'records/s':>9}  {'% of in-process create':>22}  {'source transaction, s':>21}"]
    for key, label in WAYS:
        rate = figures[f"peers_{key}_partners_per_s"]
        pct = figures.get(f"peers_{key}_vs_inprocess_pct", 100.0)
        seconds = figures.get(f"peers_{key}_source_create_transaction_s")
        lines.append(f"{label:40}  {rate:>9}  {pct:>22}  {'' if seconds is None else f'{seconds:.2f}':>21}")
    return "\n".join(lines) + "\n"


def bench_peers(instance, count=2000, rounds=2):
    """The suite's plain push beside queue_job's, one job per record and one per 100 records (module docstring)."""
    if instance.series.major != 18:
        return {"peers": f"skipped: queue_job {QUEUE_JOB_VERSION} is for Odoo 18.0, not {instance.series.name}"}
    from bench.run import REMOTE_USER  # run.py imports this module: not at the top

    cluster = instance.cluster
    folder = Path(tempfile.mkdtemp(prefix="sync-bench-queue-job-"))
    target = OdooInstance(cluster, "sync_bench_peers_target", with_test_addons=False)
    suite = OdooInstance(cluster, "sync_bench_peers_suite")
    peer = OdooInstance(cluster, "sync_bench_peers_queue_job", with_test_addons=False)
    servers, connections, finished = [], [], False
    rates = {key: [] for key, _label in WAYS}
    transactions = {key: [] for key, _label in WAYS[1:]}
    try:
        addons, on_path = _install_queue_job(peer.series.python, folder)
        peer.addons_path = ",".join([peer.addons_path, str(addons), str(BENCH / "addons")])
        if on_path:
            peer.extra_pythonpath = os.pathsep.join(filter(None, [str(folder), peer.extra_pythonpath]))
        target.install(["base"])
        key = target.shell(REMOTE_USER)
        cluster.copy_db(instance.dbname, suite.dbname)  # served by nothing now: no second install of the suite
        peer.install(["bench_queue_job_peer"])
        target_server = OdooServer(target, logfile=folder / "target.log")
        servers.append(target_server)
        target_server.start()
        config = folder / "queue_job.conf"
        # Odoo reads the file's other sections only when it has an [options] one
        config.write_text(f"[options]\n\n[queue_job]\nchannels = {CHANNELS}\n")
        peer_server = OdooServer(peer, workers=WORKERS, logfile=folder / "queue_job_server.log",
                                 extra_args=["--config", str(config), "--load", "web,queue_job"])
        servers.append(peer_server)
        peer_server.start()
        version = peer.shell(f"URL = {target_server.url!r}\nDATABASE = {target.dbname!r}\nKEY = {key!r}\n"
                             f"RECORD_PREFIX = {PREFIXES['record']!r}\nBATCH_PREFIX = {PREFIXES['batch']!r}\n"
                             + PEER_SETUP)
        suite.shell(f"PORT = {target_server.port}\nDATABASE = {target.dbname!r}\nKEY = {key!r}\n"
                    f"CODE = {SUITE_CODE!r}\nPREFIX = {PREFIXES['suite']!r}\n"
                    + (BENCH / "rpc_push_setup.py").read_text())
        _wait_runner_ready(peer_server, peer.dbname)
        target_db, peer_db = _connect(cluster, target.dbname), _connect(cluster, peer.dbname)
        connections += [target_db, peer_db]
        for round_ in range(rounds):
            inprocess = target.shell((BENCH / "rpc_inprocess.py").read_text(), timeout=3600)
            rates["inprocess_create"].append(inprocess["partners"] / inprocess["seconds"])
            ways = {"suite_plain_push": _suite_way(suite, target_db, round_, count)}
            for mode, key in (("record", "queue_job_per_record"), ("batch", "queue_job_batch100")):
                ways[key] = _queue_job_way(peer, peer_db, target_db, mode, round_, count)
            for key, (rate, seconds) in ways.items():
                rates[key].append(rate)
                transactions[key].append(seconds)
        runner = _runner_log(peer_server)
        finished = True
    finally:
        _clean_up(cluster, (target, suite, peer), servers, connections, folder, keep_logs=not finished)
    return _figures(rates, transactions, runner, version, rounds, count)


def _clean_up(cluster, databases, servers, connections, folder, keep_logs):
    """Servers stopped, databases dropped, the temporary folder removed; the servers' logs kept after a failure."""
    for db in connections:
        db.close()
    for server in reversed(servers):
        server.stop()
    for database in databases:
        cluster.drop_db(database.dbname)
        shutil.rmtree(database.data_dir, ignore_errors=True)
    if keep_logs and servers:
        kept = Path(tempfile.mkdtemp(prefix="sync-bench-peers-logs-"))
        for server in servers:
            if server.logfile.exists():
                shutil.copy(server.logfile, kept)
        sys.stdout.write(f"peers: the servers' logs are kept in {kept}\n")
    shutil.rmtree(folder, ignore_errors=True)


def _figures(rates, transactions, runner, version, rounds, count):
    """The figures of the run, once the job runner's log is checked; the table printed."""
    jobs = rounds * (count + math.ceil(count / BATCH_SIZE))
    if not any(channel.startswith(f"root(C:{CHANNELS.split(':')[1]},") for channel in runner["channels"]):
        raise RuntimeError(f"peers: the job runner did not configure the channels {CHANNELS}: {runner['channels']}")
    if runner["jobs_asked"] < jobs:
        raise RuntimeError(f"peers: the job runner asked for {runner['jobs_asked']} jobs, fewer than the {jobs} run")
    best = {key: max(values) for key, values in rates.items()}
    figures = {f"peers_{key}_partners_per_s": round(best[key]) for key, _label in WAYS}
    for key, _label in WAYS[1:]:
        figures[f"peers_{key}_vs_inprocess_pct"] = round(best[key] / best["inprocess_create"] * 100, 1)
    for key, seconds in transactions.items():
        figures[f"peers_{key}_source_create_transaction_s"] = round(min(seconds), 2)
    figures.update({f"peers_rounds_{key}_partners_per_s": [round(rate) for rate in values]
                    for key, values in rates.items()})
    figures.update({
        "peers_records": count,
        "peers_queue_job_version": version,
        "peers_queue_job_runner_channels": runner["channels"],
        "peers_queue_job_runner_jobs_asked": runner["jobs_asked"],
        "peers_queue_job_server_log_warnings": len(runner["problems"]),
    })
    sys.stdout.write(_table(figures, rounds, count))
    sys.stdout.write(f"queue_job's runner, in its server's log: channels {', '.join(runner['channels'])}, ready for "
                     f"{', '.join(runner['ready'])}, asked Odoo to run {runner['jobs_asked']} jobs ({jobs} jobs made); "
                     f"{len(runner['problems'])} warnings or errors in that log\n")
    for line in runner["problems"][:5]:
        sys.stdout.write(f"  queue_job server log: {line}\n")
    sys.stdout.flush()
    return figures
