"""The benchmarks: one command, figures printed as a table and written as JSON.

    python3 bench/run.py [--only NAME] [--compare-records N]

Each figure is a rate or a ratio measured side by side in one run, on a
PostgreSQL cluster of the run's own and real Odoo (the json2 figures: a 19.0 target).  Not part of the
test run.
"""

import argparse
import concurrent.futures
import datetime
import importlib
import importlib.util
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import psycopg2.extras
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.peers import bench_peers
from tests.harness.odoo_env import ADDONS, OdooMissing, find_all_series, find_odoo
from tests.harness.odoo_server import JsonRpc, OdooInstance, OdooServer
from tests.harness.pg import PgCluster

BENCH = ROOT / "bench"
BROKER_SERVER = ROOT / "sync_transport_wso2" / "tests" / "broker_server.py"


def bench_serialize(instance):
    return instance.shell((BENCH / "serialize.py").read_text(), timeout=3600)


def bench_write(instance, rounds=2):
    """write() on res.partner: synchronized, unsynchronized with the suite installed, and in a database
    with the suite's dependencies only (``mail``, which changes what a partner's write costs), taking turns;
    the best round of each."""
    plain = OdooInstance(instance.cluster, "sync_bench_plain", with_test_addons=False)
    plain.install(["mail"])
    script = (BENCH / "write_overhead.py").read_text()
    runs, plain_runs = [], []
    for _round in range(rounds):
        plain_runs.append(plain.shell(script, timeout=3600)["write_plain_per_s"])
        runs.append(instance.shell(script, timeout=3600))
    best = max(runs, key=lambda run: run["write_synchronized_per_s"])
    without_suite = max(plain_runs)
    return {
        **best,
        "write_without_suite_per_s": without_suite,
        "write_overhead_vs_no_suite_pct": round((without_suite / best["write_synchronized_per_s"] - 1) * 100, 1),
    }


def bench_claims(instance, rounds=3):
    """Messages claimed and sent per second with 1, 2 and 4 concurrent workers, each sent exactly once.

    The three worker counts take turns, ``rounds`` times, and the best round
    of each is kept (as for the RPC figures: on a shared machine, the round
    the least disturbed by other work); every round is in the JSON.
    """
    rates, cpu = {}, {}
    for _round in range(rounds):
        for workers in (1, 2, 4):
            total = instance.shell((BENCH / "claims_setup.py").read_text())
            pg_before = _postgresql_cpu_s(instance.cluster)
            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                runs = list(pool.map(
                    lambda _i: instance.shell((BENCH / "claims_worker.py").read_text(), timeout=3600),
                    range(workers)))
            states = instance.shell((BENCH / "claims_check.py").read_text())
            done = {state: (count, max_attempts) for state, count, max_attempts in states}
            if done.get("done", (0, 0))[0] != total or done["done"][1] != 1 or sum(r["sent"] for r in runs) != total:
                raise RuntimeError(f"claims with {workers} workers: not every message sent exactly once: {states}")
            wall = max(r["ended"] for r in runs) - min(r["started"] for r in runs)
            rates.setdefault(workers, []).append(total / wall)
            # CPU microseconds per message: the workers' Odoo processes, PostgreSQL (an upper bound: the workers'
            # shells start and end within it)
            cpu.setdefault(workers, []).append({
                "odoo": round(sum(r["cpu_s"] for r in runs) / total * 1e6),
                "postgresql": round((_postgresql_cpu_s(instance.cluster) - pg_before) / total * 1e6),
            })
    figures = {}
    for workers, measured in rates.items():
        best = max(measured)
        figures[f"claims_sent_per_s_{workers}_workers"] = round(best)
        figures[f"claims_cpu_us_per_message_{workers}_workers"] = cpu[workers][measured.index(best)]
    for workers, measured in rates.items():
        figures[f"claims_rounds_sent_per_s_{workers}_workers"] = [round(rate) for rate in measured]
    return figures


LATENCY_SETUP = """
library = env["sync.library"].create({"name": "L", "slug": "bench_l"})
system = env["sync.system"].create({"name": "L", "code": "bench_l", "transport": "test"})
data_type = env["sync.data.type"].create({
    "name": "L", "library_id": library.id, "model_id": env["ir.model"]._get("res.country.state").id,
    "system_ids": [(6, 0, system.ids)],
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"})],
})
data_type.action_generate_schema()
"""
LATENCY_SAMPLES = 30
LATENCY_WARMUP = 2  # first sends open the transports' connections and fill caches: not counted
LATENCY_SPACING_S = 0.3
LATENCY_POLL_S = 0.01
LATENCY_TIMEOUT_S = 60


def _median_p95(prefix, latencies):
    """``{prefix_median_s, prefix_p95_s}``: the 95th percentile by nearest rank."""
    ordered = sorted(latencies)
    return {
        f"{prefix}_median_s": round(statistics.median(ordered), 2),
        f"{prefix}_p95_s": round(ordered[math.ceil(len(ordered) * 0.95) - 1], 2),
    }


def _latency_to_transport(instance, samples):
    """Commit to the test transport's call (which acknowledges inside it), with cron workers running."""
    instance.shell(LATENCY_SETUP)
    server = OdooServer(instance, cron_threads=2).start()
    try:
        rpc = server.rpc()
        country = rpc.execute("res.country", "search", [["code", "=", "BE"]])[0]
        latencies = []
        for index in range(samples):
            state = rpc.execute("res.country.state", "create",
                                {"name": f"Latency {index}", "code": f"L{index}", "country_id": country})
            committed = time.time()
            deadline = time.monotonic() + LATENCY_TIMEOUT_S
            while time.monotonic() < deadline:
                found = rpc.execute("sync.message", "search_read", [["model", "=", "res.country.state"],
                                                                    ["res_id", "=", state]], fields=["uuid"])
                calls = found and rpc.execute("sync.test.transport.call", "search_read",
                                              [["message_uuid", "=", found[0]["uuid"]]], fields=["called_at"])
                if calls:
                    latencies.append(calls[0]["called_at"] - committed)
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError(f"a change did not reach its transport within {LATENCY_TIMEOUT_S} s")
            time.sleep(LATENCY_SPACING_S)
        return _median_p95("latency_commit_to_transport", latencies)
    finally:
        server.stop()


def _latency_to_ack(rpc, db, system_id, prefix, samples):
    """Seconds from each create's commit to its message ``done``, seen in PostgreSQL; one create at a time.

    ``rpc`` creates partners on the source over JSON-RPC: the call returns
    once its transaction is committed.  ``db`` polls the message's row every
    ``LATENCY_POLL_S``: ``acked_at`` has whole seconds only.
    """
    latencies = []
    with db.cursor() as cr:
        for index in range(LATENCY_WARMUP + samples):
            partner = rpc.execute("res.partner", "create", {"name": f"Latency {prefix}{index}",
                                                            "ref": f"{prefix}{index:03d}"})
            committed = time.perf_counter()
            while True:
                cr.execute("SELECT state, last_error FROM sync_message WHERE system_id = %s AND model = 'res.partner' "
                           "AND res_id = %s", [system_id, partner])
                row = cr.fetchone()
                seen = time.perf_counter()
                if row and row[0] == "done":
                    break
                if row and row[0] in ("failed", "retry", "cancelled"):
                    raise RuntimeError(f"latency {prefix}: message of partner {partner} {row[0]}: {row[1]}")
                if seen - committed > LATENCY_TIMEOUT_S:
                    raise RuntimeError(f"latency {prefix}: partner {partner} not acknowledged within "
                                       f"{LATENCY_TIMEOUT_S} s ({row and row[0]})")
                time.sleep(LATENCY_POLL_S)
            if index >= LATENCY_WARMUP:
                latencies.append(seen - committed)
            time.sleep(LATENCY_SPACING_S)
    return latencies


def bench_latency(instance, samples=LATENCY_SAMPLES):
    """Commit to acknowledgement, with cron workers running: median and 95th percentile, over real transports.

    One change at a time, ``LATENCY_SPACING_S`` apart: a partner created
    over JSON-RPC on a source served with two cron workers, until its
    message is ``done``: acknowledged in the call by a second Odoo (JSON-RPC,
    plain mode), then acknowledged later by the loopback broker's POST to
    ``/sync/<code>/acks`` after relaying it to a third Odoo running the suite
    (WSO2, asynchronous).  The commit to the test transport's call is
    measured too, on the bench database.
    """
    figures = _latency_to_transport(instance, samples)
    cluster = instance.cluster
    source = OdooInstance(cluster, "sync_bench_latency_src")
    broker_target = OdooInstance(cluster, "sync_bench_latency_tgt")
    rpc_target = OdooInstance(cluster, "sync_bench_latency_rpc", with_test_addons=False)
    # copies of the bench database, served by nothing now: no second install of the suite
    cluster.copy_db(instance.dbname, source.dbname)
    cluster.copy_db(instance.dbname, broker_target.dbname)
    rpc_target.install(["base"])
    rpc_key = rpc_target.shell(REMOTE_USER)
    relay_token = broker_target.shell((BENCH / "latency_target_setup.py").read_text())
    servers, broker, db = [], None, None
    try:
        broker = subprocess.Popen([sys.executable, str(BROKER_SERVER), "--port", "0"], stdout=subprocess.PIPE,
                                  text=True)
        broker_url = f"http://127.0.0.1:{int(broker.stdout.readline().split()[-1])}"
        rpc_server = OdooServer(rpc_target)
        broker_server = OdooServer(broker_target)
        for server in (rpc_server, broker_server):
            servers.append(server)
            server.start()
        systems = source.shell(f"RPC_PORT = {rpc_server.port}\nRPC_DATABASE = {rpc_target.dbname!r}\n"
                               f"RPC_KEY = {rpc_key!r}\nBROKER_URL = {broker_url!r}\n"
                               + (BENCH / "latency_source_setup.py").read_text())
        source_server = OdooServer(source, cron_threads=2)
        servers.append(source_server)
        source_server.start()
        requests.post(f"{broker_url}/_control", timeout=10, json={
            "mode": "async",
            "relay": {"url": f"{broker_server.url}/sync/broker/messages", "token": relay_token},
            "ack": {"url": f"{source_server.url}/sync/broker/acks", "token": systems["ack_token"]},
        }).raise_for_status()
        db = psycopg2.connect(host="127.0.0.1", port=cluster.port, user=cluster.user, password=cluster.password,
                              dbname=source.dbname, connect_timeout=10)
        db.autocommit = True  # each poll sees what is committed
        rpc = source_server.rpc()
        figures.update(_median_p95("latency_commit_to_ack_rpc",
                                   _latency_to_ack(rpc, db, systems["rpc"], "LATR-", samples)))
        figures.update(_median_p95("latency_commit_to_ack_wso2_async",
                                   _latency_to_ack(rpc, db, systems["wso2"], "LATW-", samples)))
        acks = requests.get(f"{broker_url}/_acks", timeout=10).json()
        if len(acks) != LATENCY_WARMUP + samples or {ack["answer"]["result"] for ack in acks} != {"applied"}:
            raise RuntimeError(f"latency: the broker's acknowledgements were not each applied once: {acks}")
    finally:
        if db is not None:
            db.close()
        for server in reversed(servers):
            server.stop()
        if broker is not None:
            broker.kill()
            broker.wait(30)
    for database in (source, broker_target, rpc_target):
        cluster.drop_db(database.dbname)
        shutil.rmtree(database.data_dir, ignore_errors=True)
    return figures


REMOTE_USER = """
user = env["res.users"].create({
    "name": "Sync remote", "login": "sync_remote",
    GROUP_IDS: [(6, 0, [env.ref("base.group_user").id, env.ref("base.group_partner_manager").id])],
})
result = env["res.users.apikeys"].with_user(user).sudo()._generate(None, "sync", False)
"""
TARGET_REFS = """
result = env["res.partner"].with_context(active_test=False).search([("ref", "like", "RPCB-")]).mapped("ref")
"""


LOAD_PREFIX = "RPCL-"
TARGET_LOADED_REFS = f"""
result = env["res.partner"].with_context(active_test=False).search([("ref", "like", "{LOAD_PREFIX}")]).mapped("ref")
"""
LOAD_COLUMNS = ["email", "id", "name", "ref"]


def _target_load(server, target, key, round_, count, batch=500, in_flight=2):
    """Seconds the target takes to ``load()`` ``count`` partners sent as the push sends them (the same columns,
    external identifiers and context, batches of ``batch``, ``in_flight`` calls at once on clients already
    logged in), with nothing else to do: what the target allows the push at most."""
    clients = [JsonRpc(server.url, target.dbname, "sync_remote", key) for _i in range(in_flight)]
    for client in clients:
        client.execute("res.partner", "fields_get", [], attributes=["type"])
    rows = [[f"p{round_}.{i}@load.example", f"sync_bench_load.res_partner_{round_}_{i}", f"Loaded {round_}-{i}",
             f"{LOAD_PREFIX}{round_}-{i:05d}"] for i in range(count)]
    batches = [rows[start:start + batch] for start in range(0, count, batch)]

    def load(index):
        answer = clients[index % in_flight].execute("res.partner", "load", LOAD_COLUMNS, batches[index],
                                                    context={"tz": "UTC", "tracking_disable": True})
        if len(answer.get("ids") or []) != len(batches[index]) or not all(answer["ids"]):
            raise RuntimeError(f"rpc push: the target's own load() refused a batch: {answer.get('messages')}")

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(load, range(len(batches))))
    return time.perf_counter() - started


def _process_cpu_s(pid, children=False):
    """CPU seconds (user and system) a running process has used, all its threads, and with ``children`` those
    of its children that ended and were waited for; 0.0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(value) for value in fields[11:15 if children else 13])
    return ticks / os.sysconf("SC_CLK_TCK")


def _postgresql_cpu_s(cluster):
    """CPU seconds of the cluster's postmaster and every process it started (backends, writers, vacuum):
    whichever database their work was for."""
    try:
        postmaster = int((cluster.datadir / "postmaster.pid").read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    # the backends of connections closed since (a shell's) were waited for by the postmaster: its children's
    total = _process_cpu_s(postmaster, children=True)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == postmaster:
            total += _process_cpu_s(entry.name)
    return total


def bench_rpc(instance, count=2000, per_record=200, rounds=3):
    """Plain-mode JSON-RPC push, end to end, beside the target's in-process create and one execute_kw per record.

    Beside them, the target's own ceiling: the push's ``load()`` calls sent by
    the benchmark itself, as many at once as the push has in flight, with no
    source to queue, claim, build or store them.  The in-process create, the
    ceiling and the push take turns, ``rounds`` times each, and
    the best round of each is kept: on a shared machine, the best round is
    the one the least disturbed by other work.
    """
    target = OdooInstance(instance.cluster, "sync_bench_target", with_test_addons=False)
    target.install(["base"])
    key = target.shell(REMOTE_USER)
    server = OdooServer(target).start()
    inprocess_rates, push_rates, expected, cpu_inprocess, cpu_push = [], [], [], [], []
    load_rates, cpu_load = [], []
    try:
        rpc = JsonRpc(server.url, target.dbname, "sync_remote", key)
        started = time.perf_counter()
        for index in range(per_record):
            rpc.execute("res.partner", "create", {"name": f"One call {index}", "ref": f"ONECALL-{index:05d}",
                                                  "email": f"p{index}@onecall.example"})
        one_call_rate = per_record / (time.perf_counter() - started)
        instance.shell(f"PORT = {server.port}\nDATABASE = {target.dbname!r}\nKEY = {key!r}\n"
                       + (BENCH / "rpc_push_setup.py").read_text())
        cluster = instance.cluster
        for round_ in range(rounds):
            pg_before = _postgresql_cpu_s(cluster)
            inprocess = target.shell((BENCH / "rpc_inprocess.py").read_text(), timeout=3600)
            # where the CPU went (the shell's PostgreSQL work includes its start and rollback: an upper bound)
            cpu_inprocess.append({"wall": inprocess["seconds"], "target_odoo": inprocess["cpu_s"],
                                  "postgresql": _postgresql_cpu_s(cluster) - pg_before})
            inprocess_rates.append(inprocess["partners"] / inprocess["seconds"])
            target_before = _process_cpu_s(server.proc.pid)
            seconds = _target_load(server, target, key, round_, count)
            cpu_load.append({"wall": seconds, "target_odoo": _process_cpu_s(server.proc.pid) - target_before})
            load_rates.append(count / seconds)
            instance.shell(f"ROUND = {round_}\nN = {count}\n" + (BENCH / "rpc_push_partners.py").read_text())
            pg_before, target_before = _postgresql_cpu_s(cluster), _process_cpu_s(server.proc.pid)
            pumped = instance.shell((BENCH / "rpc_push_pump.py").read_text(), timeout=3600)
            cpu_push.append({"wall": pumped["seconds"], "source_odoo": pumped["cpu_s"],
                             "target_odoo": _process_cpu_s(server.proc.pid) - target_before,
                             "postgresql": _postgresql_cpu_s(cluster) - pg_before})
            expected += [f"RPCB-{round_}-{i:05d}" for i in range(count)]
            if pumped["states"] != {"done": count * (round_ + 1)}:
                raise RuntimeError(f"rpc push: not every message done: {pumped['states']}")
            push_rates.append(count / pumped["seconds"])
        arrived = sorted(target.shell(TARGET_REFS))
        loaded = target.shell(TARGET_LOADED_REFS)
    finally:
        server.stop()
    if sorted(loaded) != sorted(f"{LOAD_PREFIX}{r}-{i:05d}" for r in range(rounds) for i in range(count)):
        raise RuntimeError(f"rpc push: the target's own load() did not create each partner once: {len(loaded)} "
                           f"partners ({len(set(loaded))} refs) on the target, {rounds * count} loaded")
    if arrived != sorted(expected):
        raise RuntimeError(f"rpc push: not every partner arrived once: {len(arrived)} partners "
                           f"({len(set(arrived))} refs) on the target, {len(expected)} sent")
    inprocess_rate, push_rate, load_rate = max(inprocess_rates), max(push_rates), max(load_rates)
    best_push = cpu_push[push_rates.index(push_rate)]
    best_inprocess = cpu_inprocess[inprocess_rates.index(inprocess_rate)]
    return {
        # CPU seconds of each process during the best round of each: where the push's time goes
        "rpc_push_cpu_s": {key: round(value, 2) for key, value in best_push.items()},
        "rpc_inprocess_cpu_s": {key: round(value, 2) for key, value in best_inprocess.items()},
        "rpc_target_load_cpu_s": {key: round(value, 2) for key, value in cpu_load[load_rates.index(load_rate)].items()},
        "rpc_inprocess_create_partners_per_s": round(inprocess_rate),
        "rpc_execute_kw_per_record_partners_per_s": round(one_call_rate),
        "rpc_plain_push_partners_per_s": round(push_rate),
        "rpc_plain_push_vs_inprocess_pct": round(push_rate / inprocess_rate * 100, 1),
        # the target's own ceiling: the push's load() calls, in flight as the push has them, with no source
        "rpc_target_load_partners_per_s": round(load_rate),
        "rpc_target_load_vs_inprocess_pct": round(load_rate / inprocess_rate * 100, 1),
        "rpc_plain_push_vs_target_load_pct": round(push_rate / load_rate * 100, 1),
        "rpc_rounds_inprocess_partners_per_s": [round(rate) for rate in inprocess_rates],
        "rpc_rounds_plain_push_partners_per_s": [round(rate) for rate in push_rates],
        "rpc_rounds_target_load_partners_per_s": [round(rate) for rate in load_rates],
    }


JSON2_PREFIX = "J2B-"


def _suite_client(protocol, port, database, key):
    """The suite's own RPC client (sync_transport_rpc/lib/client.py, which imports nothing of Odoo)."""
    lib = ROOT / "sync_transport_rpc" / "lib"
    spec = importlib.util.spec_from_file_location("bench_rpc_lib", lib / "__init__.py",
                                                  submodule_search_locations=[str(lib)])
    package = importlib.util.module_from_spec(spec)
    sys.modules["bench_rpc_lib"] = package
    spec.loader.exec_module(package)
    client = importlib.import_module("bench_rpc_lib.client")
    return client.OdooRpcClient(protocol, "127.0.0.1", port, database, "sync_remote", key, timeout=60)


def bench_json2(instance, count=2000, per_record=200, rounds=2):
    """Odoo 19's JSON-2 beside JSON-RPC, same task, same run: a 19.0 target, this database pushing to it.

    One ``create`` call per record with the suite's client, then the plain
    push of ``count`` partners end to end, the protocols taking turns
    ``rounds`` times on the same system (its protocol switched between
    rounds); the best round of each is kept."""
    series = [s for s in find_all_series() if s.major == 19]
    if not series:
        return {"json2": "skipped: no Odoo 19.0 found (ODOO19_PATH, ODOO19_PYTHON)"}
    target = OdooInstance(instance.cluster, "sync_bench_target19", with_test_addons=False, series=series[0])
    target.install(["base"])
    key = target.shell(REMOTE_USER)
    server = OdooServer(target).start()
    protocols = ("jsonrpc", "json2")
    per_record_rates, push_rates = {}, {p: [] for p in protocols}
    try:
        for protocol in protocols:
            client = _suite_client(protocol, server.port, target.dbname, key)
            started = time.perf_counter()
            for index in range(per_record):
                client.execute("res.partner", "create", [{"name": f"One call {protocol} {index}",
                                                          "ref": f"ONE-{protocol}-{index:05d}"}])
            per_record_rates[protocol] = per_record / (time.perf_counter() - started)
            client.close()
        scenario = f"CODE = 'bench_json2'\nPREFIX = {JSON2_PREFIX!r}\n"
        system_id = instance.shell(f"PORT = {server.port}\nDATABASE = {target.dbname!r}\nKEY = {key!r}\n" + scenario
                                   + (BENCH / "rpc_push_setup.py").read_text())
        for round_ in range(rounds):
            for protocol in protocols:
                instance.shell(f"env['sync.system'].browse({system_id}).rpc_protocol = {protocol!r}\nresult = 1")
                instance.shell(f"ROUND = '{protocol}{round_}'\nN = {count}\n" + scenario
                               + (BENCH / "rpc_push_partners.py").read_text())
                pumped = instance.shell(scenario + (BENCH / "rpc_push_pump.py").read_text(), timeout=3600)
                if pumped["states"].get("done") != count * (round_ * len(protocols) + protocols.index(protocol) + 1):
                    raise RuntimeError(f"json2 push: not every message done: {pumped['states']}")
                push_rates[protocol].append(count / pumped["seconds"])
        arrived = target.shell(f"result = env['res.partner'].search_count([('ref', 'like', '{JSON2_PREFIX}')])")
    finally:
        server.stop()
    if arrived != count * rounds * len(protocols):
        raise RuntimeError(f"json2 push: {arrived} partners arrived, {count * rounds * len(protocols)} sent")
    best = {protocol: max(rates) for protocol, rates in push_rates.items()}
    return {
        "json2_execute_per_record_calls_per_s": round(per_record_rates["json2"]),
        "jsonrpc19_execute_per_record_calls_per_s": round(per_record_rates["jsonrpc"]),
        "json2_plain_push_partners_per_s": round(best["json2"]),
        "jsonrpc19_plain_push_partners_per_s": round(best["jsonrpc"]),
        "json2_vs_jsonrpc_push_pct": round(best["json2"] / best["jsonrpc"] * 100, 1),
        "json2_rounds_push_partners_per_s": [round(rate) for rate in push_rates["json2"]],
        "jsonrpc19_rounds_push_partners_per_s": [round(rate) for rate in push_rates["jsonrpc"]],
    }


def bench_wso2(instance, count=2000):
    """Messages per second through the test broker (a real HTTP server on loopback), one per request and batched."""
    broker = subprocess.Popen([sys.executable, str(ROOT / "sync_transport_wso2" / "tests" / "broker_server.py"),
                               "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{int(broker.stdout.readline().split()[-1])}"
        figures = {}
        for batch in ("single", "batch"):
            total = instance.shell(f"BROKER_URL = {url!r}\nBATCH = {batch!r}\nN = {count}\n"
                                   + (BENCH / "wso2_setup.py").read_text())
            run = instance.shell((BENCH / "wso2_send.py").read_text(), timeout=3600)
            if run["states"] != {"done": total}:
                raise RuntimeError(f"wso2 {batch}: not every message done: {run['states']}")
            figures[f"wso2_{batch}_messages_per_s"] = round(total / run["seconds"])
        return figures
    finally:
        broker.kill()


def bench_memory(instance, systems=20, partners=5000):
    """Resident memory of one send worker while a backlog of 100,000 messages drains: flat, not growing."""
    queued = instance.shell(f"SYSTEMS = {systems}\nPARTNERS = {partners}\n" + (BENCH / "memory_setup.py").read_text(),
                            timeout=3600)
    run = instance.shell((BENCH / "memory_drain.py").read_text(), timeout=7200)
    samples = run["samples"]
    if samples[-1][0] != queued:
        raise RuntimeError(f"memory: {samples[-1][0]} of {queued} messages done")
    tenth = next(rss for done, rss in samples if done >= queued / 10)
    return {
        "memory_backlog_messages": queued,
        "memory_rss_mb_after_first_10pct": round(tenth, 1),
        "memory_rss_mb_at_end": round(samples[-1][1], 1),
        "memory_rss_max_mb_while_draining": round(max(rss for _done, rss in samples), 1),
        "memory_end_vs_first_10pct_pct": round((samples[-1][1] / tenth - 1) * 100, 1),
        "memory_process_peak_mb": round(run["peak_mb"], 1),
        "memory_samples_rss_mb": [round(rss, 1) for _done, rss in samples[:: max(len(samples) // 8, 1)]],
    }


COMPARE_LINES = """[
    (0, 0, {"line_type": "field", "value": "name", "name": "name"}),
    (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True}),
    (0, 0, {"line_type": "field", "value": "email", "name": "email"}),
    (0, 0, {"line_type": "field", "value": "is_company", "name": "is_company"}),
    (0, 0, {"line_type": "field", "value": "active", "name": "active"}),
]"""


def _compare_once(source, systems, mode, expected_drift, records):
    """One comparison of the data type with the ``mode`` target, in a shell process of its own; checked."""
    run = source.shell(f"SYSTEM = {systems[mode]}\nDATA_TYPE = {systems['data_type']}\n"
                       + (BENCH / "compare_run.py").read_text(), timeout=7200)
    counts = (run["state"], run["total"], run["in_step"], run["differs"], run["drift"], run["lines"], run["errors"])
    wanted = ("done", records, records - expected_drift, expected_drift, expected_drift, expected_drift, 0)
    if counts != wanted:
        raise RuntimeError(f"compare {mode}: (state, compared, in step, differ, drift, findings, not comparable) "
                           f"{counts}, not {wanted}: {run}")
    return run


BIND_SQL = (
    "INSERT INTO sync_binding (system_id, company_id, model, res_id, remote_model, remote_ref, last_sync_at, "
    "create_uid, create_date, write_uid, write_date) "
    "SELECT s.id, s.company_id, 'res.partner', v.res_id, 'res.partner', v.remote_ref, now() at time zone 'utc', "
    "1, now() at time zone 'utc', 1, now() at time zone 'utc' "
    "FROM (VALUES %s) AS v (code, res_id, remote_ref) JOIN sync_system s ON s.code = v.code")


def _bind_by_sql(cluster, source, plain_target, suite_target):
    """The state sending leaves, made by SQL (``--compare-seed sql``): each partner ``CMPB-…`` of the source bound to
    the partner of the same reference on each target, as the RPC transport binds what it sends.

    On the source, a binding per system (``remote_ref``: the target's id); on the plain target, the external
    identifier ``sync_src.res_partner_<source id>`` that plain mode gives what it creates; on the suite target, a
    binding to the source system ``src`` (``remote_ref``: ``src/res.partner/<source id>``).  The source has no
    messages of them (none was sent): their last message's state is unknown, as for records bound before the queue
    kept messages.  Returns how many partners were bound.
    """
    def connect(instance):
        return psycopg2.connect(host="127.0.0.1", port=cluster.port, user=cluster.user, password=cluster.password,
                                dbname=instance.dbname, connect_timeout=10)

    def refs(db):
        with db.cursor() as cr:
            cr.execute("SELECT ref, id FROM res_partner WHERE ref LIKE 'CMPB-%'")
            return dict(cr.fetchall())

    dbs = {name: connect(instance) for name, instance in
           (("source", source), ("plain", plain_target), ("suite", suite_target))}
    try:
        here = refs(dbs["source"])
        for mode in ("plain", "suite"):
            there = refs(dbs[mode])
            if sorted(there) != sorted(here):
                raise RuntimeError(f"compare seed: the {mode} target's partners are not the source's")
            pairs = [(here[ref], there[ref]) for ref in sorted(here)]
            with dbs["source"].cursor() as cr:
                psycopg2.extras.execute_values(cr, BIND_SQL, [(f"bench_cmp_{mode}", local, str(remote))
                                                              for local, remote in pairs], page_size=5000)
            with dbs[mode].cursor() as cr:
                if mode == "plain":
                    psycopg2.extras.execute_values(cr, (
                        "INSERT INTO ir_model_data (module, name, model, res_id, noupdate, create_uid, create_date, "
                        "write_uid, write_date) VALUES %s"),
                        [("sync_src", f"res_partner_{local}", "res.partner", remote) for local, remote in pairs],
                        template="(%s, %s, %s, %s, false, 1, now() at time zone 'utc', 1, now() at time zone 'utc')",
                        page_size=5000)
                else:
                    psycopg2.extras.execute_values(cr, BIND_SQL, [("src", remote, f"src/res.partner/{local}")
                                                                  for local, remote in pairs], page_size=5000)
        for db in dbs.values():
            db.commit()
        return len(here)
    finally:
        for db in dbs.values():
            db.close()


def bench_compare(instance, records=10000, seed="send"):
    """Reconciliation: records compared per second, in step and with 1 % drift, plain and suite mode.

    A source (a copy of the bench database) sends ``records`` partners
    through the RPC transport, for real, to a plain Odoo (``base`` only) and
    to a suite (a copy of the bench database accepting them), each served by
    its own process: the in-step state is what the queue made, messages done,
    bindings and external identifiers as sending leaves them.  With ``seed``
    ``sql`` (``--compare-seed sql``, for the scale figure: sending 100,000
    partners to both takes longer than comparing them), the partners are
    created on each side alike and bound by SQL instead (:func:`_bind_by_sql`).
    Each comparison is driven from a shell process of its own, one
    ``_cron_compare`` call per step (500 records or bindings, or a page of
    what the other side lists) and a commit after each, as Odoo's cron runner
    does, the cache emptied between steps; that process's peak resident memory
    is its figure (``ru_maxrss`` and ``VmHWM``: on Linux the same high-water
    mark, reset before the first step where ``/proc/self/clear_refs`` allows
    it, else the process's whole life, Odoo's loading included: an upper
    bound), beside its resident memory before the first step (Odoo loaded)
    and the largest after a step.  The target servers' peak (``VmHWM``) covers their
    whole life, receiving included.  Then the email of
    1 % of the partners is changed by SQL on each target and it is compared
    again.  A comparison whose counts are not exactly 0 (then ``records`` / 100)
    findings, every other record in step, fails the benchmark.
    """
    cluster = instance.cluster
    source = OdooInstance(cluster, "sync_bench_cmp_src")
    suite_target = OdooInstance(cluster, "sync_bench_cmp_suite")
    plain_target = OdooInstance(cluster, "sync_bench_cmp_plain", with_test_addons=False)
    cluster.copy_db(instance.dbname, source.dbname)
    cluster.copy_db(instance.dbname, suite_target.dbname)
    plain_target.install(["base"])
    plain_key = plain_target.shell(REMOTE_USER)
    suite_token = suite_target.shell(f"LINES = {COMPARE_LINES}\n" + (BENCH / "compare_target_setup.py").read_text())
    drift = records // 100
    servers, figures = [], {"compare_records": records, "compare_seed": seed}
    try:
        plain_server, suite_server = OdooServer(plain_target), OdooServer(suite_target)
        for server in (plain_server, suite_server):
            servers.append(server)
            server.start()
        started = time.perf_counter()
        systems = source.shell(
            f"PLAIN_PORT = {plain_server.port}\nPLAIN_DATABASE = {plain_target.dbname!r}\nPLAIN_KEY = {plain_key!r}\n"
            f"SUITE_PORT = {suite_server.port}\nSUITE_DATABASE = {suite_target.dbname!r}\n"
            f"SUITE_TOKEN = {suite_token!r}\nLINES = {COMPARE_LINES}\nN = {records}\nSEED = {seed!r}\n"
            + (BENCH / "compare_source_setup.py").read_text(), timeout=7200)
        created = time.perf_counter()
        figures["compare_setup_create_s"] = round(created - started, 1)
        if seed == "send":
            pumped = source.shell((BENCH / "compare_pump.py").read_text(), timeout=7200)
            wanted = {"bench_cmp_plain:done": records, "bench_cmp_suite:done": records}
            if {key: count for key, count in pumped["states"].items() if key.startswith("bench_cmp_")} != wanted:
                raise RuntimeError(f"compare: the partners were not all sent: {pumped}")
            figures["compare_setup_send_both_s"] = round(pumped["queue_seconds"] + pumped["send_seconds"], 1)
        else:
            for target in (plain_target, suite_target):
                made = target.shell(f"N = {records}\n" + (BENCH / "compare_target_partners.py").read_text(),
                                    timeout=7200)
                if made != records:
                    raise RuntimeError(f"compare seed: {made} partners on {target.dbname}, not {records}")
            if _bind_by_sql(cluster, source, plain_target, suite_target) != records:
                raise RuntimeError("compare seed: not every partner bound")
            figures["compare_setup_targets_and_bind_sql_s"] = round(time.perf_counter() - created, 1)
        targets = {"plain": plain_target, "suite": suite_target}
        for mode in ("plain", "suite"):
            for label, expected in (("in_step", 0), ("drift_1pct", drift)):
                if expected:
                    changed = targets[mode].shell((BENCH / "compare_drift.py").read_text())
                    if changed != drift:
                        raise RuntimeError(f"compare {mode}: {changed} partners drifted, not {drift}")
                run = _compare_once(source, systems, mode, expected, records)
                prefix = f"compare_{mode}_{label}"
                figures[f"{prefix}_records_per_s"] = round(records / run["wall_s"])
                figures[f"{prefix}_findings"] = run["lines"]
                figures[f"{prefix}_wall_s"] = round(run["wall_s"], 1)
                figures[f"{prefix}_steps"] = run["steps"]
                # where the time goes: the records sent here, the bindings kept here, what the other side lists
                figures[f"{prefix}_phase_s"] = {phase: round(seconds, 1) for phase, seconds in run["phase_s"].items()}
                figures[f"{prefix}_worker_rss_before_mb"] = round(run["rss_before_mb"], 1)
                figures[f"{prefix}_worker_peak_rss_mb"] = round(run["peak_mb"], 1)
                if run["peak_while_comparing_mb"] is not None:
                    figures[f"{prefix}_worker_peak_rss_while_comparing_mb"] = round(run["peak_while_comparing_mb"], 1)
                figures[f"{prefix}_worker_rss_max_after_a_step_mb"] = round(run["rss_max_sampled_mb"], 1)
        for mode, server in (("plain", plain_server), ("suite", suite_server)):
            figures[f"compare_{mode}_target_server_peak_rss_mb"] = _peak_rss_mb(server.proc.pid)
    finally:
        for server in reversed(servers):
            server.stop()
    for database in (source, suite_target, plain_target):
        cluster.drop_db(database.dbname)
        shutil.rmtree(database.data_dir, ignore_errors=True)
    return figures


def _peak_rss_mb(pid):
    """The peak resident memory of a running process (``VmHWM``), in MB; None when it cannot be read."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


BENCHMARKS = {
    "serialize": bench_serialize,
    "write": bench_write,
    "claims": bench_claims,
    "latency": bench_latency,
    "rpc": bench_rpc,
    "json2": bench_json2,
    "wso2": bench_wso2,
    "memory": bench_memory,
    "compare": bench_compare,
    "peers": bench_peers,
}


def machine():
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.date.today().isoformat(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=list(BENCHMARKS))
    parser.add_argument("--compare-records", type=int, default=10000, metavar="N",
                        help="partners the compare benchmark sends, then compares (default 10000; the scale "
                             "figure: 100000)")
    parser.add_argument("--compare-seed", choices=["send", "sql"], default="send",
                        help="how the compare benchmark brings the partners in step: sent through the queue "
                             "(default), or created on each side and bound by SQL (quicker to set up at 100000)")
    args = parser.parse_args(argv)
    try:
        find_odoo()
    except OdooMissing as exc:
        sys.stdout.write(f"{exc}\n")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    cluster = PgCluster(workdir / "pgdata").init().start()
    figures = {}
    try:
        instance = OdooInstance(cluster, "sync_bench")
        instance.install([*ADDONS, "sync_test_transport"])
        for name in args.only or list(BENCHMARKS):
            sys.stdout.write(f"running {name} ...\n")
            sys.stdout.flush()
            options = {"records": args.compare_records, "seed": args.compare_seed} if name == "compare" else {}
            figures.update(BENCHMARKS[name](instance, **options))
    finally:
        cluster.destroy()
        shutil.rmtree(workdir, ignore_errors=True)
    width = max(len(k) for k in figures)
    sys.stdout.write("\n" + "figure".ljust(width) + "  value\n" + "-" * (width + 12) + "\n")
    for key, value in figures.items():
        sys.stdout.write(f"{key.ljust(width)}  {value}\n")
    out = ROOT / "bench" / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": machine(), "figures": figures}, indent=2) + "\n")
    sys.stdout.write(f"\nwritten to {out.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
