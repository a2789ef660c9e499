"""Faults under a real sender and a real receiver, counted on the receiving side.

A source database sends partners to a target database that runs the suite
(suite mode over JSON-RPC), each served by its own Odoo server, while the
sender is killed with SIGKILL at precise points of a batch, the target is
down, PostgreSQL restarts or the sender's connections are terminated, or
four schedulers send at once.  Afterwards every partner is on the target
once (by its unique ``ref``) and every envelope was received and applied
once (``sync.inbound.message``, one row per envelope id, one application).

The kills and the receiver's delays come from the test addon
``sync_test_faults``.  Polling goes through psql: an Odoo shell takes
seconds to start.
"""

import itertools
import time

import pytest

from tests.harness.pg import PgError

BATCH = 10
UTC_NOW = "(now() at time zone 'utc')"

TARGET_SETUP = r"""
import json
for key, value in PARAMS.items():
    env["ir.config_parameter"].set_param(key, value)
env["ir.config_parameter"].set_param("sync_base.own_code", "tgt")
user = env["res.users"].create({
    "name": "Source connector", "login": "source_connector",
    GROUP_IDS: [(6, 0, [env.ref("base.group_user").id, env.ref("base.group_partner_manager").id])],
})
source = env["sync.system"].create({"name": "Source", "code": "src", "transport": "test", "user_id": user.id,
                                    "batch_size": 100})
library = env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
schema = env["sync.schema"].create({
    "library_id": library.id, "name": "Partners", "slug": "res_partner",
    "schema": json.dumps({"type": "object", "required": ["name"],
                          "properties": {"name": {"type": "string"}, "ref": {"type": ["string", "null"]}}}),
})
env["sync.data.type"].create({
    "name": "Partners", "library_id": library.id, "schema_id": schema.id,
    "model_id": env["ir.model"]._get("res.partner").id, "trigger": "manual",
    "system_ids": [(6, 0, source.ids)], "accept_inbound": True,
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                 (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True})],
})
result = source._generate_inbound_token()
"""

# one system per code, each with a data type of its own records (ref F-<CODE>-...), all of one message type
SOURCE_SETUP = r"""
for key, value in PARAMS.items():
    env["ir.config_parameter"].set_param(key, value)
env["ir.config_parameter"].set_param("sync_base.own_code", "src")
systems = env["sync.system"].create([{
    "name": f"Target {code}", "code": code, "transport": "rpc", "rpc_protocol": "jsonrpc", "rpc_host": "127.0.0.1",
    "rpc_port": PORT, "rpc_database": DATABASE, "rpc_login": "admin", "rpc_password": "admin",
    "rpc_mode": "suite", "rpc_remote_token": TOKEN, "batch_size": BATCH, "retry_delays": DELAYS,
    "max_attempts": 30,
} for code in CODES])
library = env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
schema = env["sync.schema"]
for system in systems:
    data_type = env["sync.data.type"].create({
        "name": f"Partners {system.code}", "library_id": library.id, "schema_id": schema.id,
        "model_id": env["ir.model"]._get("res.partner").id, "system_ids": [(6, 0, system.ids)],
        "domain": repr([("ref", "like", f"F-{system.code.upper()}-")]),
        "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                     (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True})],
    })
    if not schema:
        data_type.action_generate_schema()
        schema = data_type.schema_id
if SEND_WORKERS:
    env["res.config.settings"].create({"sync_send_workers": SEND_WORKERS}).set_values()
result = sorted(set(env["sync.data.type"].search([]).mapped("message_type")))
"""

CREATE = "env['res.partner'].create([{'name': f'Partner {ref}', 'ref': ref} for ref in REFS])\n"

SYNC_CRONS = (
    "SELECT d.name, c.active, c.failure_count FROM ir_cron c "
    "JOIN ir_model_data d ON d.model = 'ir.cron' AND d.res_id = c.id "
    "WHERE d.module = 'sync_queue' ORDER BY d.name"
)


# ----------------------------------------------------------------------
# psql helpers
# ----------------------------------------------------------------------
def rows(db, query):
    text = db.cluster.psql(query, dbname=db.dbname)
    return [tuple(line.split("|")) for line in text.splitlines() if line]


def column(db, query):
    return [row[0] for row in rows(db, query)]


def value(db, query):
    return int(db.cluster.psql(query, dbname=db.dbname) or 0)


def quoted(values):
    return ", ".join(f"'{v}'" for v in values) or "NULL"


def wake(db, *crons):
    """Wake the schedulers ``crons`` (xml ids in sync_queue) of ``db`` now, as ``ir.cron._trigger()`` does."""
    db.cluster.psql(
        "INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date, write_uid, write_date) "
        f"SELECT res_id, {UTC_NOW}, 1, {UTC_NOW}, 1, {UTC_NOW} FROM ir_model_data "
        f"WHERE module = 'sync_queue' AND model = 'ir.cron' AND name IN ({quoted(crons)})",
        dbname=db.dbname,
    )
    db.cluster.psql(f"SELECT pg_notify('cron_trigger', '{db.dbname}')")


def states(db):
    return {state: int(count) for state, count in rows(db, "SELECT state, count(*) FROM sync_message GROUP BY state")}


def wait_until(check, timeout, what, every=0.5):
    """Call ``check`` until it returns something true; return it, or fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        outcome = check()
        if outcome:
            return outcome
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(every)


def drain(source, total, timeout=180, crons=("ir_cron_resend", "ir_cron_send"), every=1.0):
    """Wake the source's schedulers until its ``total`` messages are done; fail on a failed message."""
    deadline = time.monotonic() + timeout
    last = {}
    while time.monotonic() < deadline:
        try:
            wake(source, *crons)
            last = states(source)
        except PgError:  # PostgreSQL restarting
            time.sleep(every)
            continue
        if last.get("failed"):
            failed = rows(source, "SELECT uuid, attempt_count, last_error FROM sync_message WHERE state = 'failed'")
            raise AssertionError(f"messages failed: {failed[:5]} ({last})")
        if last == {"done": total}:
            return
        time.sleep(every)
    stuck = rows(source, "SELECT state, attempt_count, recovered, lease_until, next_attempt_at, last_error "
                         "FROM sync_message WHERE state <> 'done' ORDER BY id LIMIT 5")
    raise AssertionError(f"the queue did not drain within {timeout}s: {last}; for instance {stuck}")


# ----------------------------------------------------------------------
# scenario
# ----------------------------------------------------------------------
def make_pair(make_database, start_server, codes=("tgt",), delays="1", source_params=None, target_params=None,
              send_workers=0):
    """A target running the suite, served; a source with one system per code sending to it, not served yet."""
    target = make_database("ftgt")
    token = target.shell(f"PARAMS = {target_params or {}!r}\n" + TARGET_SETUP)
    target_server = start_server(target)
    source = make_database("fsrc")
    types = source.shell(
        f"PARAMS = {source_params or {}!r}\nPORT = {target_server.port}\nDATABASE = {target.dbname!r}\n"
        f"TOKEN = {token!r}\nCODES = {list(codes)!r}\nBATCH = {BATCH}\nDELAYS = {delays!r}\n"
        f"SEND_WORKERS = {send_workers}\n" + SOURCE_SETUP)
    assert types == ["contacts.res_partner"]
    return source, target, target_server


def make_refs(codes, per_code):
    # interleaved: the systems' messages are mixed in the queue
    return [f"F-{code.upper()}-{i:04d}" for i in range(per_code) for code in codes]


def assert_arrived_once(source, target, refs):
    """Every record is on the target once, every envelope was received and applied once."""
    assert states(source) == {"done": len(refs)}
    uuids = sorted(column(source, "SELECT uuid FROM sync_message"))
    assert len(uuids) == len(set(uuids)) == len(refs), "one message per record"
    inbound = sorted(rows(target, "SELECT message_uuid, state, attempt_count FROM sync_inbound_message"))
    received = [uuid for uuid, _state, _count in inbound]
    missing, extra = sorted(set(uuids) - set(received)), sorted(set(received) - set(uuids))
    assert not missing and not extra, f"envelopes never received: {missing[:5]}; received, not sent: {extra[:5]}"
    assert received == uuids, "an envelope was received twice"
    not_once = [row for row in inbound if row[1:] != ("done", "1")]
    assert not not_once, f"envelopes not applied exactly once (uuid, state, applications): {not_once[:5]}"
    target_refs = sorted(column(target, "SELECT ref FROM res_partner WHERE ref LIKE 'F-%'"))
    duplicated = sorted({ref for ref in target_refs if target_refs.count(ref) > 1})
    assert not duplicated, f"records created twice on the target: {duplicated[:5]}"
    assert target_refs == sorted(refs), f"records lost: {sorted(set(refs) - set(target_refs))[:5]}"
    bindings = rows(source, "SELECT count(*), count(DISTINCT res_id) FROM sync_binding WHERE model = 'res.partner'")
    assert bindings == [(str(len(refs)), str(len(refs)))], "one binding per record on the source"


def active_crons(db):
    return [(name, active) for name, active, _failures in rows(db, SYNC_CRONS)]


# ----------------------------------------------------------------------
# 1. the sender killed in the middle of a batch
# ----------------------------------------------------------------------
@pytest.mark.long
@pytest.mark.parametrize("point", ["freeze", "transport", "store"])
def test_sender_killed_mid_batch_then_every_record_arrives_once(point, make_database, start_server, tmp_path):
    """SIGKILL after the claim and the envelopes are committed (freeze), while the transport call runs
    (transport: the target applies the batch and answers after the sender died), or after the transport
    answered, before the results are stored (store); restarted, every record arrives once."""
    marker = tmp_path / "kill"
    target_params = {}
    if point == "transport":
        # the first request is applied, then the target waits 6 s before it commits and answers: the sender
        # dies 1 s into the call
        slow = tmp_path / "slow"
        slow.touch()
        target_params = {"sync_test_faults.inbound_delay": "6", "sync_test_faults.inbound_delay_file": str(slow)}
    source, target, _target_server = make_pair(
        make_database, start_server, target_params=target_params,
        source_params={"sync_queue.lease_seconds": "5", "sync_test_faults.kill_at": point,
                       "sync_test_faults.kill_file": str(marker), "sync_test_faults.kill_delay": "1"},
    )
    crons = active_crons(source)
    server = start_server(source, cron_threads=2)
    marker.touch()
    refs = make_refs(["tgt"], 60)
    source.shell(f"REFS = {refs!r}\n" + CREATE)

    wait_until(lambda: server.proc.poll() is not None, 120, f"the sender killed at {point}")
    assert not marker.exists()
    assert f"sync_test_faults: SIGKILL at {point}" in server.logfile.read_text(errors="replace")
    sending = column(source, "SELECT uuid FROM sync_message WHERE state = 'sending'")
    assert len(sending) >= BATCH, states(source)
    applied_query = (f"SELECT count(*) FROM sync_inbound_message WHERE state = 'done' "
                     f"AND message_uuid IN ({quoted(sending)})")
    if point == "freeze":
        # one batch claimed and frozen, nothing sent
        assert len(sending) == BATCH
        assert value(source, "SELECT count(*) FROM sync_message WHERE state = 'sending' AND envelope IS NULL") == 0
        assert value(target, "SELECT count(*) FROM sync_inbound_message") == 0
        applied = []
    else:
        # the first batch reached the target, which applied it; the sender never heard of it
        wait_until(lambda: value(target, applied_query) >= BATCH, 60, "the killed batch applied on the target")
        applied = column(target, "SELECT message_uuid FROM sync_inbound_message WHERE state = 'done' "
                                 f"AND message_uuid IN ({quoted(sending)})")

    server.start()
    drain(source, len(refs))
    assert_arrived_once(source, target, refs)
    # what the dead worker held was recovered after its lease; what the target had applied was sent again
    recovered = column(source, "SELECT uuid FROM sync_message WHERE recovered")
    assert sorted(recovered) == sorted(sending)
    if applied:
        resent = value(source, f"SELECT count(*) FROM sync_message WHERE uuid IN ({quoted(applied)}) "
                               "AND attempt_count >= 2")
        assert resent == len(applied)
    assert active_crons(source) == crons


# ----------------------------------------------------------------------
# 2. the target down for a while
# ----------------------------------------------------------------------
@pytest.mark.long
def test_target_down_then_back_the_backlog_drains_on_the_retry_delays(make_database, start_server):
    delays = [4, 8, 16]
    tolerance = 5  # seconds late at most: the schedulers are woken every second
    source, target, target_server = make_pair(make_database, start_server, delays=",".join(map(str, delays)))
    crons = rows(source, SYNC_CRONS)
    assert all(failures == "0" for _name, _active, failures in crons)
    server = start_server(source, cron_threads=2)
    target_server.stop()
    refs = make_refs(["tgt"], 40)
    source.shell(f"REFS = {refs!r}\n" + CREATE)

    def tried_three_times():
        # the send schedulers are woken every second, as a busy source's new changes wake them
        wake(source, "ir_cron_send")
        return value(source, "SELECT count(*) FROM sync_message WHERE attempt_count >= 3 AND state = 'retry'") \
            == len(refs)

    wait_until(tried_three_times, 120, "three failed attempts of every message while the target is down")
    target_server.start()
    drain(source, len(refs), crons=("ir_cron_send",))
    assert server.proc.poll() is None
    assert_arrived_once(source, target, refs)

    attempts = {}
    for message_id, epoch, outcome in rows(
            source, "SELECT message_id, extract(epoch FROM attempted_at)::int, outcome FROM sync_message_attempt "
                    "ORDER BY message_id, attempted_at, id"):
        attempts.setdefault(message_id, []).append((int(epoch), outcome))
    assert len(attempts) == len(refs)
    for message_id, tries in attempts.items():
        outcomes = [outcome for _at, outcome in tries]
        assert len(tries) >= 4 and outcomes == ["transient"] * (len(tries) - 1) + ["acknowledged"], (
            message_id, tries)
        for number, ((before, _o1), (after, _o2)) in enumerate(itertools.pairwise(tries), start=1):
            delay = delays[min(number, len(delays)) - 1]
            assert delay <= after - before <= delay + tolerance, (
                f"message {message_id}: attempt {number + 1} came {after - before}s after attempt {number}, "
                f"its delay is {delay}s: {tries}")
    # never raised: still active, no failure counted
    assert rows(source, SYNC_CRONS) == crons


# ----------------------------------------------------------------------
# 3. PostgreSQL restarted, connections terminated
# ----------------------------------------------------------------------
def start_sending(make_database, start_server, count, source_params=None):
    """A prefork sender (its cron workers survive a lost connection) busy sending ``count`` records to a
    target that takes half a second per request."""
    source, target, _target_server = make_pair(
        make_database, start_server, source_params={"sync_queue.lease_seconds": "5", **(source_params or {})},
        target_params={"sync_test_faults.inbound_delay": "0.5"},
    )
    crons = active_crons(source)
    start_server(source, workers=2, cron_threads=2)
    refs = make_refs(["tgt"], count)
    source.shell(f"REFS = {refs!r}\n" + CREATE)
    def first_batches_done():
        done = states(source).get("done", 0)
        return done if done >= 2 * BATCH else 0

    done = wait_until(first_batches_done, 120, "the first batches done", every=0.2)
    assert done < len(refs), "everything was sent before the fault"
    return source, target, refs, crons


@pytest.mark.long
def test_postgres_restarted_under_a_running_sender(cluster, make_database, start_server):
    # the target's server answers 404 to /sync/<code>/messages while its database is unreachable: a passing
    # outage, retried on the delays, never a message failed for good
    source, target, refs, crons = start_sending(make_database, start_server, 150)
    cluster.restart()
    drain(source, len(refs))
    assert_arrived_once(source, target, refs)
    assert active_crons(source) == crons


@pytest.mark.long
def test_sender_connections_terminated_while_sending(cluster, make_database, start_server):
    # the transactions that freeze a batch's envelopes and store its results stay open 0.3 s: the
    # terminations land inside them, not only on idle connections
    source, target, refs, crons = start_sending(make_database, start_server, 200,
                                                {"sync_test_faults.transaction_delay": "0.3"})
    terminated = 0
    storm_end = time.monotonic() + 20
    while time.monotonic() < storm_end and states(source).get("done", 0) < len(refs):
        # the schedulers that lost their connection are woken again, as their next run would
        wake(source, "ir_cron_resend", "ir_cron_send")
        terminated += int(cluster.psql(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{source.dbname}' AND pid <> pg_backend_pid()) AS t") or 0)
        time.sleep(0.5)
    assert terminated >= 5, f"only {terminated} connections of the sender were terminated"
    drain(source, len(refs))
    assert_arrived_once(source, target, refs)
    # some batch lost its claim or its results with its connection, and went again
    assert value(source, "SELECT count(*) FROM sync_message WHERE recovered OR attempt_count > 1") > 0
    assert active_crons(source) == crons


# ----------------------------------------------------------------------
# 4. four schedulers at once
# ----------------------------------------------------------------------
@pytest.mark.long
def test_four_schedulers_send_from_one_queue_each_message_applied_once(make_database, start_server):
    codes = ["w1", "w2", "w3", "w4"]
    source, target, _target_server = make_pair(
        make_database, start_server, codes=codes, send_workers=4,
        target_params={"sync_test_faults.inbound_delay": "1"},
    )
    crons = active_crons(source)
    assert [name for name, active in crons if active == "t" and name.startswith("ir_cron_send")] == [
        "ir_cron_send", "ir_cron_send_2", "ir_cron_send_3", "ir_cron_send_4"]
    start_server(source, workers=2, cron_threads=4)
    refs = make_refs(codes, 60)
    source.shell(f"REFS = {refs!r}\n" + CREATE)
    # the send scheduler holds a transaction-level advisory lock (4242, system id) while it sends to a system
    locks = (f"SELECT count(DISTINCT objid) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
             f"WHERE l.locktype = 'advisory' AND l.classid = 4242 AND l.granted AND d.datname = '{source.dbname}'")
    parallel = 0
    deadline = time.monotonic() + 180
    while states(source) != {"done": len(refs)} and time.monotonic() < deadline:
        parallel = max(parallel, int(source.cluster.psql(locks) or 0))
        time.sleep(0.1)
    assert states(source) == {"done": len(refs)}
    assert parallel == len(codes), f"at most {parallel} systems were sent to at once"
    assert_arrived_once(source, target, refs)
    # each message was handed to the transport once: one attempt each, acknowledged in the call (which the
    # attempt log does not repeat: it keeps every other attempt)
    assert rows(source, "SELECT count(*), min(attempt_count), max(attempt_count) FROM sync_message") == [
        (str(len(refs)), "1", "1")]
    assert rows(source, "SELECT count(*) FROM sync_message_attempt") == [("0",)]
    assert active_crons(source) == crons
