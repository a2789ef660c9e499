"""Load: a backlog of 100,000 messages drained with flat memory, claims as fast on it as on an empty queue (also
under an old snapshot and dead tuples), and a burst of writes coalesced into one message per record and system.

The backlog is the memory benchmark's (``bench/memory_setup.py``: 20 systems of the test transport x 5,000
partners, batches of 500), made once for this module.  Timings are printed (``pytest -s``, or the junit output):
the only timing assert is the claim's ratio, both sides measured in the same run.
"""

import statistics
import time

import psycopg2
import psycopg2.extensions
import pytest

from tests.e2e.conftest import ROOT, _database_factory, _drop_databases

BENCH = ROOT / "bench"
SYSTEMS, PARTNERS = 20, 5000
BACKLOG = SYSTEMS * PARTNERS
# memory_setup.py's batch size: a claim takes this many messages
BATCH = 500
ROUNDS = 7


def _setup(systems, partners):
    return f"SYSTEMS = {systems}\nPARTNERS = {partners}\n" + (BENCH / "memory_setup.py").read_text()


@pytest.fixture(scope="module")
def backlog(cluster, suite_template):
    """A database with 100,000 pending messages (20 systems x 5,000 partners), shared by this module's tests."""
    make, created = _database_factory(cluster, suite_template)
    db = make("backlog")
    started = time.monotonic()
    assert db.shell(_setup(SYSTEMS, PARTNERS), timeout=1800) == BACKLOG
    print(f"\nbacklog of {BACKLOG} messages queued in {time.monotonic() - started:.0f}s")
    yield db
    _drop_databases(cluster, created)


# Claims ``BATCH`` messages ROUNDS + 1 times (the first to warm up) with ``_claim`` itself, timed in-process.
# RESET: the claimed messages are put back to pending after each claim (a queue of one batch); otherwise each
# round claims on another system (SYSTEM_INDEXES), always on its 5,000 fresh pending messages.  Every message
# claimed is put back to pending at the end, so that the backlog stays whole.
CLAIMS = r"""
import time

Message = env["sync.message"]
settings = Message._settings()
systems = env["sync.system"].search([("code", "like", "bench_m_")], order="id")


def put_back(ids):
    with env.registry.cursor() as cr:
        cr.execute("UPDATE sync_message SET state = 'pending', envelope = NULL, lease_until = NULL, "
                   "attempt_count = 0, write_date = now() at time zone 'UTC' WHERE id = ANY(%s)", [ids])


times, claimed_all, problems = [], [], []
for index in range(ROUNDS + 1):
    system = systems[SYSTEM_INDEXES[index % len(SYSTEM_INDEXES)]]
    env.cr.rollback()  # this cursor holds no snapshot taken before the claim
    started = time.perf_counter()
    claimed = Message._claim(system, settings)
    elapsed = time.perf_counter() - started
    ids = [message_id for message_id, _envelope in claimed]
    env.cr.rollback()
    env.cr.execute("SELECT count(*) FROM sync_message WHERE id = ANY(%s) AND state = 'sending' AND system_id = %s "
                   "AND envelope IS NOT NULL", [ids, system.id])
    if len(ids) != BATCH or env.cr.fetchone()[0] != BATCH:
        problems.append(f"round {index}: {len(ids)} claimed on {system.code}")
    claimed_all += ids
    if RESET:
        put_back(ids)
    if index:
        times.append(elapsed)
env.cr.rollback()
put_back(claimed_all)
result = {"times": times, "problems": problems}
"""

DEAD_TUPLES = r"""
env.cr.execute("UPDATE sync_message SET write_date = now() at time zone 'UTC'")
result = env.cr.rowcount
"""

DEAD_TUPLE_STATS = "SELECT n_live_tup, n_dead_tup FROM pg_stat_user_tables WHERE relname = 'sync_message'"


def _claims(db, system_indexes, reset):
    run = db.shell(f"ROUNDS = {ROUNDS}\nBATCH = {BATCH}\nSYSTEM_INDEXES = {list(system_indexes)!r}\n"
                   f"RESET = {reset!r}\n" + CLAIMS)
    assert run["problems"] == [], run["problems"]
    return run["times"]


def _ms(times):
    return f"median {statistics.median(times) * 1000:.1f} ms ({', '.join(f'{t * 1000:.0f}' for t in times)})"


@pytest.mark.long
def test_a_claim_on_a_backlog_of_100000_costs_what_it_costs_on_an_empty_queue(backlog, make_database):
    """``_claim`` of one batch: on the backlog, and on it again while an old snapshot keeps dead tuples alive,
    at most twice the time of the same claim on a queue holding that one batch."""
    empty = make_database("claims")
    assert empty.shell(_setup(1, BATCH)) == BATCH
    series = {"empty": _claims(empty, [0], reset=True)}
    series["backlog"] = _claims(backlog, range(ROUNDS + 1), reset=False)
    cluster = backlog.cluster
    snapshot = psycopg2.connect(host="127.0.0.1", port=cluster.port, user=cluster.user, password=cluster.password,
                                dbname=backlog.dbname)
    try:
        snapshot.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ)
        with snapshot.cursor() as cursor:
            cursor.execute("SELECT count(*), max(write_date) FROM sync_message")
            seen_count, seen_written = cursor.fetchone()
            assert seen_count == BACKLOG
            # every row updated after the snapshot: 100,000 dead versions that vacuum may not remove
            assert backlog.shell(DEAD_TUPLES) == BACKLOG
            series["backlog, old snapshot"] = _claims(backlog, range(ROUNDS + 1, 2 * (ROUNDS + 1)), reset=False)
            # the snapshot was held, unchanged, during the claims
            cursor.execute("SELECT count(*), max(write_date) FROM sync_message")
            assert cursor.fetchone() == (seen_count, seen_written)
        dead = cluster.psql(DEAD_TUPLE_STATS, dbname=backlog.dbname)
    finally:
        snapshot.rollback()
        snapshot.close()
    series["empty, again"] = _claims(empty, [0], reset=True)
    baseline = statistics.median(series["empty"] + series["empty, again"])
    print(f"\nclaim of {BATCH} messages (live|dead tuples under the snapshot: {dead}):")
    for name, times in series.items():
        print(f"  {name:<22} {_ms(times)}  ratio {statistics.median(times) / baseline:.2f}")
    for name in ("backlog", "backlog, old snapshot"):
        assert statistics.median(series[name]) <= 2 * baseline, (
            f"a claim on the {name} takes {statistics.median(series[name]) / baseline:.2f} times the one on an "
            f"empty queue: {series}")


EXACTLY_ONCE = r"""
cr = env.cr
cr.execute("SELECT state, count(*), min(attempt_count), max(attempt_count) FROM sync_message GROUP BY state")
states = {row[0]: list(row[1:]) for row in cr.fetchall()}
cr.execute("SELECT count(*), count(DISTINCT message_id), array_agg(DISTINCT outcome) FROM sync_message_attempt")
attempts, attempted, outcomes = cr.fetchone()
cr.execute("SELECT count(*), count(DISTINCT (system_id, res_id)) FROM sync_binding")
bindings = list(cr.fetchone())
result = {"states": states, "attempts": attempts, "attempted": attempted, "outcomes": outcomes, "bindings": bindings}
"""


@pytest.mark.long
def test_a_backlog_of_100000_drains_with_flat_memory_each_message_done_once(backlog):
    """One send worker drains the backlog, cron call by cron call (2-second budget), its RSS sampled after each."""
    assert backlog.shell("result = env['sync.message'].search_count([('state', '=', 'pending')])\n") == BACKLOG
    started = time.monotonic()
    run = backlog.shell((BENCH / "memory_drain.py").read_text(), timeout=1800)
    elapsed = time.monotonic() - started
    samples = run["samples"]
    assert run["total"] == BACKLOG
    assert samples[-1][0] == BACKLOG, f"{samples[-1][0]} of {BACKLOG} messages done"
    tenth = next(rss for done, rss in samples if done >= BACKLOG / 10)
    end = samples[-1][1]
    print(f"\ndrained {BACKLOG} messages in {elapsed:.0f}s over {len(samples)} cron calls; RSS after the first "
          f"10 %: {tenth:.1f} MB, at the end: {end:.1f} MB ({(end / tenth - 1) * 100:+.1f} %), max while draining "
          f"{max(rss for _done, rss in samples):.1f} MB, process peak {run['peak_mb']:.1f} MB")
    print("  RSS samples (MB):", [round(rss, 1) for _done, rss in samples[:: max(len(samples) // 10, 1)]])
    assert end <= tenth * 1.10, f"the send worker grew from {tenth:.1f} MB to {end:.1f} MB: {samples}"
    check = backlog.shell(EXACTLY_ONCE)
    # done, each after one attempt, logged once, acknowledged once (one binding per record and system)
    # one attempt each, acknowledged in the call: the attempt log, which keeps every other attempt, is empty
    assert check == {"states": {"done": [BACKLOG, 1, 1]}, "attempts": 0, "attempted": 0,
                     "outcomes": None, "bindings": [BACKLOG, BACKLOG]}, check


BURST_SETUP = r"""
partners = env["res.partner"].create([{"name": f"Burst {i}", "ref": f"BURST-{i:04d}"} for i in range(COUNT)])
library = env["sync.library"].create({"name": "Burst", "slug": "burst"})
systems = env["sync.system"].create([
    {"name": f"Burst {code}", "code": code, "transport": "test", "batch_size": 500} for code in ("burst_a", "burst_b")
])
data_type = env["sync.data.type"].create({
    "name": "Burst", "library_id": library.id, "model_id": env["ir.model"]._get("res.partner").id,
    "trigger": "on_create_or_write", "system_ids": [(6, 0, systems.ids)], "domain": "[('ref', 'like', 'BURST-')]",
    "line_ids": [(0, 0, {"line_type": "field", "value": fname, "name": fname, "primary": fname == "ref"})
                 for fname in ("ref", *FIELDS)],
})
data_type.action_generate_schema()
result = env["sync.change"].search_count([])
"""

# 5 writes on each partner, one record per write() call, all in one transaction
BURST = r"""
partners = env["res.partner"].search([("ref", "like", "BURST-")], order="id")
writes = 0
for round_, fname in enumerate(FIELDS):
    for partner in partners:
        partner.write({fname: f"{fname} {round_} {partner.ref}"})
        writes += 1
result = writes
"""

QUEUE_ALL = r"""
changes = env["sync.change"].search_count([])
calls = 0
while env["sync.change"].search_count([]):
    env["sync.message"]._cron_create_queue()
    env.cr.commit()
    calls += 1
env.cr.execute("SELECT count(*), count(DISTINCT (system_id, res_id)), array_agg(DISTINCT state), "
               "count(DISTINCT res_id) FROM sync_message")
messages, pairs, states, records = env.cr.fetchone()
result = {"changes": changes, "calls": calls, "messages": messages, "pairs": pairs, "states": states,
          "records": records}
"""

SEND_ALL = r"""
while env["sync.message"]._cron_send():
    env.cr.commit()
env.cr.execute("SELECT count(*), count(DISTINCT message_uuid) FROM sync_test_transport_call")
calls, delivered = env.cr.fetchone()
stale = []
for call in env["sync.test.transport.call"].search([]):
    payload, ref = call.envelope["payload"], call.envelope["payload"]["ref"]
    expected = {fname: f"{fname} {round_} {ref}" for round_, fname in enumerate(FIELDS)}
    if {fname: payload.get(fname) for fname in FIELDS} != expected:
        stale.append(payload)
result = {"states": dict(env["sync.message"]._read_group([], ["state"], ["__count"])), "calls": calls,
          "delivered": delivered, "stale": stale[:3]}
"""


@pytest.mark.long
def test_a_burst_of_10000_writes_in_one_transaction_is_one_message_per_record_and_system(make_database):
    db = make_database("burst")
    count, fields = 2000, ("email", "phone", "street", "city", "name")
    prefix = f"COUNT = {count}\nFIELDS = {fields!r}\n"
    assert db.shell(prefix + BURST_SETUP) == 0  # the partners were created before their data type
    started = time.monotonic()
    assert db.shell(prefix + BURST, timeout=1200) == count * len(fields)
    written = time.monotonic() - started
    queued = db.shell(QUEUE_ALL, timeout=1200)
    print(f"\n{count * len(fields)} writes in one transaction in {written:.0f}s: {queued['changes']} captured "
          f"changes, {queued['messages']} messages in {queued['calls']} queue call(s)")
    assert queued == {"changes": queued["changes"], "calls": queued["calls"], "messages": 2 * count,
                      "pairs": 2 * count, "states": ["pending"], "records": count}, queued
    sent = db.shell(prefix + SEND_ALL, timeout=1200)
    # each message handed over once, with the record as the last write left it
    assert sent == {"states": {"done": 2 * count}, "calls": 2 * count, "delivered": 2 * count, "stale": []}, sent
