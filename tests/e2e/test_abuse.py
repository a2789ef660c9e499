"""Abuse: code lines that never end or fill the memory under a prefork server, access over RPC by users outside
the synchronization groups and by the public, secrets kept out of logs, messages, the database and copies, and a
lost acknowledgement through the broker.

Polling goes through psql where it can: an Odoo shell takes seconds to start.
"""

import json
import re
import subprocess
import sys
import time
import uuid

import pytest
import requests

from tests.e2e.conftest import ROOT
from tests.harness.odoo_server import JsonRpc, JsonRpcError
from tests.harness.pg import free_port

BROKER = ROOT / "sync_transport_wso2" / "tests" / "broker_server.py"
ACCESS_ERROR = "odoo.exceptions.AccessError"


def _start_broker():
    process = subprocess.Popen([sys.executable, str(BROKER), "--port", "0"], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.startswith("listening on "), line
    return process, f"http://127.0.0.1:{int(line.split()[-1])}"


def _rpc_error(call):
    """The name of the exception ``call`` raised over JSON-RPC, or ``"no error"``."""
    try:
        call()
    except JsonRpcError as exc:
        return exc.name or str(exc)
    return "no error"


# ----------------------------------------------------------------------
# 4. code lines that never end, or build a string larger than the worker may hold
# ----------------------------------------------------------------------
CODE_SETUP = r"""
from odoo import fields
from odoo.exceptions import AccessError

params = env["ir.config_parameter"]
params.set_param("sync_queue.lease_seconds", "2")
params.set_param("sync_queue.send_time_budget", "3")
# the cron worker's 10 seconds are for the suite's schedulers: Odoo's other crons wait for tomorrow
suite_crons = env["ir.model.data"].search([("module", "=", "sync_queue"), ("model", "=", "ir.cron")]).mapped("res_id")
env["ir.cron"].search([("id", "not in", suite_crons)]).write(
    {"nextcall": fields.Datetime.add(fields.Datetime.now(), days=1)})
admin = env.ref("base.user_admin")
manager = env["res.users"].create({
    "name": "Sync manager", "login": "sync_manager_code",
    GROUP_IDS: [(6, 0, [env.ref("base.group_user").id, env.ref("sync_base.group_sync_manager").id])],
})
library = env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
system = env["sync.system"].create({"name": "Target", "code": "abused", "transport": "test", "batch_size": 10,
                                    "max_attempts": 3})
data_type = env["sync.data.type"].create({
    "name": "Contacts", "library_id": library.id, "model_id": env["ir.model"]._get("res.partner").id,
    "system_ids": [(6, 0, system.ids)], "trigger": "on_create",
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"})],
})
lines = {"loop": LOOP, "huge": HUGE}
# a synchronization manager who is not an administrator may not write code
try:
    env["sync.mapping.line"].with_user(manager).create(
        {"data_type_id": data_type.id, "line_type": "code", "name": "loop", "value": LOOP})
    refused = "no error"
except AccessError:
    refused = "AccessError"
# an administrator may, and the static check lets both expressions through
env["sync.mapping.line"].with_user(admin).create([
    {"data_type_id": data_type.id, "line_type": "code", "name": name, "value": value}
    for name, value in lines.items()])
data_type.action_generate_schema()
env["res.partner"].create([{"name": name} for name in NAMES])
env.cr.commit()  # the changes are captured at the commit
env["sync.message"]._cron_create_queue()
result = {"refused": refused, "messages": env["sync.message"].search_count([]),
          "lines": sorted(data_type.line_ids.filtered(lambda line: line.line_type == "code").mapped("value"))}
"""

CODE_STATES = (
    "SELECT json_agg(json_build_array(record_name, state, attempt_count, coalesce(last_error, '')) ORDER BY id) "
    "FROM sync_message"
)

CODE_CRONS = "SELECT cron_name, active FROM ir_cron WHERE cron_name LIKE 'Synchronization%' ORDER BY id"

# the results are stored in transactions of their own (the test transport's call log is in the cron's, undone
# when the worker is killed later in the same run): the acknowledged attempts in the log, and a message done at
# its first attempt, which the log does not repeat (the message holds it)
CODE_DELIVERED = (
    "SELECT m.record_name, count(a.id) FILTER (WHERE a.outcome = 'acknowledged') "
    "+ CASE WHEN m.state = 'done' AND m.attempt_count = 1 THEN 1 ELSE 0 END FROM sync_message m "
    "LEFT JOIN sync_message_attempt a ON a.message_id = m.id GROUP BY m.id, m.record_name ORDER BY m.record_name"
)


def _rows(db, sql):
    text = db.cluster.psql(sql, dbname=db.dbname)
    return [line.split("|") for line in text.splitlines() if line]


def _json(db, sql):
    return json.loads(db.cluster.psql(sql, dbname=db.dbname) or "null")


def _wake(db, *names):
    """What ``ir.cron._trigger()`` does for the crons ``sync_queue.<name>``, through psql: an Odoo shell takes
    seconds to start, and a prefork cron worker that sleeps longer than ``--limit-time-real-cron`` is killed."""
    listed = ", ".join(f"'{name}'" for name in names)
    db.cluster.psql(
        "INSERT INTO ir_cron_trigger (cron_id, call_at) SELECT res_id, now() at time zone 'UTC' FROM ir_model_data "
        f"WHERE module = 'sync_queue' AND model = 'ir.cron' AND name IN ({listed})", dbname=db.dbname)
    db.cluster.psql(f"SELECT pg_notify('cron_trigger', '{db.dbname}')")


@pytest.mark.long
def test_a_code_line_that_never_ends_or_fills_the_memory_fails_its_record_alone(make_database, start_server):
    """Prefork workers with Odoo's limits: the record whose code loops kills its cron worker (real-time and CPU
    limits) on every attempt and ends failed after ``max_attempts``; the one whose code builds a 10 GB string
    meets the memory limit; the rest of their batch is done, and the schedulers stay active."""
    db = make_database("codeabuse")
    names = ["Healthy 1", "Looping", "Healthy 2", "Huge", "Healthy 3"]
    loop = "sum(range(10**12)) if record.name == 'Looping' else 0"
    huge = "len('x' * (10**10)) if record.name == 'Huge' else 0"
    setup = db.shell(f"LOOP = {loop!r}\nHUGE = {huge!r}\nNAMES = {names!r}\n" + CODE_SETUP)
    assert setup == {"refused": "AccessError", "messages": 5, "lines": sorted([loop, huge])}, setup
    crons = _rows(db, CODE_CRONS)
    server = start_server(db, workers=2, cron_threads=1, extra_args=[
        "--limit-time-real-cron", "10", "--limit-time-cpu", "8", "--limit-memory-hard", str(2 * 1024**3)])
    deadline = time.monotonic() + 300
    states = {}
    while time.monotonic() < deadline:
        states = {name: (state, count, error) for name, state, count, error in _json(db, CODE_STATES)}
        if all(state in ("done", "failed") for state, _count, _error in states.values()):
            break
        _wake(db, "ir_cron_resend", "ir_cron_send")
        time.sleep(0.5)
    print("\n" + "\n".join(f"  {name}: {state} after {count} attempt(s): {error[:150]}"
                           for name, (state, count, error) in states.items()))
    looping, huge_state = states["Looping"], states["Huge"]
    assert looping[:2] == ("failed", 3) and "stopped while sending" in looping[2], states
    assert huge_state[0] == "failed" and huge_state[1] <= 3, states
    assert "MemoryError" in huge_state[2] or "stopped while sending" in huge_state[2], states
    for name in ("Healthy 1", "Healthy 2", "Healthy 3"):
        # at most the batch the loop killed, then once alone
        assert states[name][0] == "done" and states[name][1] <= 2, states
    # the healthy records were acknowledged once each, the others never
    assert dict(_rows(db, CODE_DELIVERED)) == {"Healthy 1": "1", "Healthy 2": "1", "Healthy 3": "1", "Huge": "0",
                                               "Looping": "0"}
    log = server.logfile.read_text(errors="replace")
    kills = {"real time": len(re.findall(r"WorkerCron \(\d+\) timeout after 10s", log)),
             "CPU time": log.count("CPU time limit (8) reached")}
    print(f"  cron workers stopped by Odoo's limits: {kills}")
    # the worker was stopped by Odoo's limits, not by anything else
    assert sum(kills.values()) >= 3, server.log_tail()
    assert server.proc.poll() is None, "the server's main process survives its cron workers"
    assert _rows(db, CODE_CRONS) == crons


# ----------------------------------------------------------------------
# 5. access over RPC
# ----------------------------------------------------------------------
ACCESS_SETUP = r"""
from datetime import timedelta

from odoo import fields


def user(login, groups):
    return env["res.users"].create({"name": login, "login": login, "password": PASSWORD,
                                    GROUP_IDS: [(6, 0, [env.ref(group).id for group in groups])]})


user("outsider", ["base.group_user"])
user("portal_user", ["base.group_portal"])
sync_user = user("sync_user", ["base.group_user", "sync_base.group_sync_user"])
systems = env["sync.system"].create([
    # a failed attempt first: the attempt log has rows (a first attempt acknowledged in the call leaves none)
    {"name": "Shop", "code": "shop", "transport": "test", "test_outcome": "transient", "user_id": sync_user.id},
    {"name": "Odoo", "code": "odoo_rpc", "transport": "rpc", "rpc_protocol": "jsonrpc", "rpc_host": "127.0.0.1",
     "rpc_port": 9, "rpc_database": "remote", "rpc_login": "connector", "rpc_password": SECRETS["rpc_password"],
     "rpc_remote_token": SECRETS["rpc_remote_token"], "rpc_mode": "suite"},
    {"name": "Broker", "code": "broker", "transport": "wso2", "wso2_url": "http://127.0.0.1:9/services/sync",
     "wso2_auth": "basic", "wso2_username": "user", "wso2_password": SECRETS["wso2_password"],
     "wso2_client_secret": SECRETS["wso2_client_secret"], "wso2_client_id": "client"},
])
systems[0]._generate_inbound_token()
library = env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
data_type = env["sync.data.type"].create({
    "name": "Contacts", "library_id": library.id, "model_id": env["ir.model"]._get("res.partner").id,
    "system_ids": [(6, 0, systems[0].ids)], "domain": "[('ref', '=', 'ACCESS')]",
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                 (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True})],
    "condition_ids": [(0, 0, {"field_name": "name", "operator": "!=", "value": "nobody"})],
})
data_type.action_generate_schema()
partner = env["res.partner"].create({"name": "Access", "ref": "ACCESS"})
env.cr.commit()  # the changes are captured at the commit
env["sync.message"]._cron_create_queue()
env.cr.commit()
env["sync.message"]._cron_send()
# sent again, acknowledged: a binding, and both attempts in the log (a new snapshot sees the first's results)
env.cr.commit()
systems[0].test_outcome = "acknowledged"
env["sync.message"].search([("state", "=", "retry")]).next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
env.cr.commit()
env["sync.message"]._cron_send()
partner.name = "Access again"  # a pending change
env.cr.commit()
records, abstract = {}, []
for name in sorted(env.registry):
    if name.startswith("sync."):
        Model = env[name].sudo()
        records[name] = Model.search([], limit=1).id if not Model._abstract else False
        if Model._abstract:
            abstract.append(name)
result = {"records": records, "abstract": abstract, "message": env["sync.message"].search([], limit=1).id,
          "systems": dict(zip(systems.mapped("code"), systems.ids, strict=True))}
"""

SECRET_FIELDS = {"odoo_rpc": ["rpc_password", "rpc_remote_token"], "broker": ["wso2_password", "wso2_client_secret"]}


def _secrets():
    return {name: f"{name.replace('_', '-')}-{uuid.uuid4().hex}" for name in
            ("rpc_password", "rpc_remote_token", "wso2_password", "wso2_client_secret")}


def test_access_over_rpc_outside_the_synchronization_groups(make_database, start_server):
    db = make_database("access")
    secrets, password = _secrets(), "Access-1234"
    setup = db.shell(f"SECRETS = {secrets!r}\nPASSWORD = {password!r}\n" + ACCESS_SETUP)
    records = setup["records"]
    # the models of the suite and of its test addons, with data in most of them
    assert {"sync.system", "sync.message", "sync.message.attempt", "sync.change", "sync.binding",
            "sync.inbound.token", "sync.data.type", "sync.mapping.line", "sync.condition"} <= set(records)
    assert all(records[name] for name in ("sync.system", "sync.message", "sync.message.attempt", "sync.change",
                                          "sync.binding", "sync.inbound.token", "sync.condition")), records
    server = start_server(db)
    outsiders = {login: JsonRpc(server.url, db.dbname, login, password) for login in ("outsider", "portal_user")}
    refusals = {}
    for login, rpc in outsiders.items():
        assert rpc.uid  # they log in
        for model, record_id in records.items():
            ids = [record_id or 1]
            refusals[(login, model, "search_read")] = _rpc_error(lambda r=rpc, m=model: r.execute(m, "search_read", []))
            refusals[(login, model, "read")] = _rpc_error(lambda r=rpc, m=model, i=ids: r.execute(m, "read", i))
            refusals[(login, model, "write")] = _rpc_error(lambda r=rpc, m=model, i=ids: r.execute(m, "write", i, {}))
        message, system = [setup["message"]], [setup["systems"]["shop"]]
        for model, method, ids in (("sync.message", "action_retry", message),
                                   ("sync.message", "action_cancel", message),
                                   ("sync.message", "action_requeue", message),
                                   ("sync.system", "action_test_connection", system)):
            refusals[(login, model, method)] = _rpc_error(lambda r=rpc, m=model, f=method, i=ids: r.execute(m, f, i))
    # an abstract model holds no data: reading it fails in Odoo itself before any access check
    not_refused = {(login, model, method): error for (login, model, method), error in refusals.items()
                   if error != ACCESS_ERROR and not (model in setup["abstract"] and error != "no error")}
    assert not not_refused, "\n".join(f"{k}: {v}" for k, v in not_refused.items())

    # a synchronization user reads the queue and the systems, never their credentials, and writes no message
    sync_user = JsonRpc(server.url, db.dbname, "sync_user", password)
    assert sync_user.execute("sync.message", "search_read", [], fields=["state"])
    for code, names in SECRET_FIELDS.items():
        for name in names:
            error = _rpc_error(lambda n=name, c=code: sync_user.execute("sync.system", "read", [setup["systems"][c]],
                                                                        fields=[n]))
            assert error == ACCESS_ERROR, (code, name, error)
    listed = sync_user.execute("sync.system", "search_read", [])
    assert {row["code"] for row in listed} == {"shop", "odoo_rpc", "broker"}
    shown = json.dumps(listed)
    assert not [name for names in SECRET_FIELDS.values() for name in names if name in shown]
    assert not [secret for secret in secrets.values() if secret in shown]
    for model, method, args in (("sync.message", "write", ([setup["message"]], {"state": "done"})),
                                ("sync.message", "unlink", ([setup["message"]],)),
                                ("sync.inbound.token", "search_read", ([],))):
        error = _rpc_error(lambda m=model, f=method, a=args: sync_user.execute(m, f, *a))
        assert error == ACCESS_ERROR, (model, method, error)

    # the public: no session, no RPC; the health endpoint wants the system's token
    answer = requests.post(f"{server.url}/web/dataset/call_kw/sync.message/search_read", timeout=30, json={
        "jsonrpc": "2.0", "method": "call", "id": 1,
        "params": {"model": "sync.message", "method": "search_read", "args": [], "kwargs": {}}})
    body = answer.json()
    assert "result" not in body and body["error"]["data"]["name"] == "odoo.http.SessionExpiredException", body
    health = requests.get(f"{server.url}/sync/shop/health", timeout=30)
    assert health.status_code == 401 and health.headers["Content-Type"].startswith("application/json"), health.text
    assert health.json()["error"]["code"] == "unauthorized", health.text


# ----------------------------------------------------------------------
# 6. secrets in logs, messages, the database and copies
# ----------------------------------------------------------------------
REMOTE_SETUP = r"""
env["res.users"].create({
    "name": "Connector", "login": "connector", "password": SECRETS["rpc_password"],
    GROUP_IDS: [(6, 0, [env.ref("base.group_user").id, env.ref("base.group_partner_manager").id])],
})
"""

SECRETS_SETUP = r"""
import json

env["ir.config_parameter"].set_param("sync_base.own_code", "leaky")
common = {"max_attempts": 1, "timeout": 5}
rpc = dict(common, transport="rpc", rpc_host="127.0.0.1", rpc_database=REMOTE_DB)
wso2 = dict(common, transport="wso2", wso2_ack_mode="sync")
systems = env["sync.system"].create([
    # the remote takes the login, refuses the remote inbound token
    dict(rpc, name="RPC suite", code="rpc_suite", rpc_protocol="jsonrpc", rpc_port=REMOTE_PORT, rpc_mode="suite",
         rpc_login="connector", rpc_password=SECRETS["rpc_password"], rpc_remote_token=SECRETS["rpc_remote_token"]),
    # the remote refuses the password
    dict(rpc, name="RPC refused", code="rpc_refused", rpc_protocol="xmlrpc", rpc_port=REMOTE_PORT,
         rpc_login="admin", rpc_password=SECRETS["rpc_wrong_password"]),
    # nobody listens
    dict(rpc, name="RPC down", code="rpc_down", rpc_protocol="jsonrpc", rpc_port=CLOSED_PORT, rpc_login="admin",
         rpc_password=SECRETS["rpc_down_password"]),
    # the broker wants an OAuth2 token: basic authentication is refused
    dict(wso2, name="WSO2 basic", code="wso2_basic", wso2_url=BROKER_URL + "/services/sync", wso2_auth="basic",
         wso2_username="sync", wso2_password=SECRETS["wso2_password"],
         wso2_headers=json.dumps({"apikey": SECRETS["wso2_apikey"]})),
    # the token endpoint refuses the client secret
    dict(wso2, name="WSO2 OAuth2", code="wso2_oauth", wso2_url=BROKER_URL + "/services/sync", wso2_auth="oauth2",
         wso2_token_url=BROKER_URL + "/token", wso2_client_id="client",
         wso2_client_secret=SECRETS["wso2_client_secret"]),
    # nobody listens
    dict(wso2, name="WSO2 down", code="wso2_down", wso2_url=f"http://127.0.0.1:{CLOSED_PORT}/services/sync",
         wso2_auth="oauth2", wso2_token_url=f"http://127.0.0.1:{CLOSED_PORT}/token", wso2_client_id="client",
         wso2_client_secret=SECRETS["wso2_down_secret"]),
])
systems[0]._generate_inbound_token()
env["res.users"].create({
    "name": "Sync manager", "login": "sync_manager", "password": PASSWORD,
    GROUP_IDS: [(6, 0, [env.ref("base.group_user").id, env.ref("sync_base.group_sync_manager").id,
                          env.ref("base.group_allow_export").id])],
})
library = env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
data_type = env["sync.data.type"].create({
    "name": "Contacts", "library_id": library.id, "model_id": env["ir.model"]._get("res.partner").id,
    "system_ids": [(6, 0, systems.ids)], "domain": "[('ref', 'like', 'LEAK-')]",
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                 (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True})],
})
data_type.action_generate_schema()
env["res.partner"].create([{"name": f"Leak {i}", "ref": f"LEAK-{i}"} for i in range(2)])
result = dict(zip(systems.mapped("code"), systems.ids, strict=True))
"""

SECRETS_STORED = r"""
import json

messages = env["sync.message"].search([])
attempts = env["sync.message.attempt"].search([])
result = {
    "messages": [[m.system_id.code, m.state, m.last_error or "", m.envelope or ""] for m in messages],
    "attempt_errors": [a.error or "" for a in attempts],
    "responses": [json.dumps(r.read()[0], default=str) for r in env["sync.response"].search([])],
}
"""

EXPORTED_SECRETS = ("rpc_password", "rpc_remote_token", "wso2_password", "wso2_client_secret", "wso2_headers",
                    "wso2_client_key")


def _dump(db):
    """Every row of the database but those of ``sync_system``, where the credentials are kept, as text."""
    cluster = db.cluster
    proc = subprocess.run(
        [f"{cluster.bindir}/pg_dump", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", cluster.user, "--data-only",
         "--exclude-table-data=sync_system", db.dbname],
        capture_output=True, text=True, check=True, env={"PGPASSWORD": cluster.password, "PATH": "/usr/bin:/bin"},
    )
    return proc.stdout


def test_secrets_never_appear_in_logs_messages_or_copies(make_database, start_server):
    """Systems of both transports with distinctive credentials, each refused or unreachable, send and are tested
    by an administrator over RPC, the server logging at DEBUG: no credential in the log, the messages, their
    attempts, the notifications, the bodies the broker got, any table but ``sync_system``, or a manager's copies."""
    secrets = {name: f"{name.replace('_', '-')}-{uuid.uuid4().hex}" for name in (
        "rpc_password", "rpc_remote_token", "rpc_wrong_password", "rpc_down_password", "wso2_password",
        "wso2_apikey", "wso2_client_secret", "wso2_down_secret")}
    password = "Manager-1234"
    broker, broker_url = _start_broker()
    try:
        remote = make_database("remote")
        remote.shell(f"SECRETS = {secrets!r}\n" + REMOTE_SETUP)
        remote_server = start_server(remote)
        requests.post(f"{broker_url}/_control", json={"require_token": True}, timeout=10).raise_for_status()
        db = make_database("leaky")
        systems = db.shell(
            f"SECRETS = {secrets!r}\nPASSWORD = {password!r}\nREMOTE_DB = {remote.dbname!r}\n"
            f"REMOTE_PORT = {remote_server.port}\nCLOSED_PORT = {free_port()}\nBROKER_URL = {broker_url!r}\n"
            + SECRETS_SETUP)
        # everything the suite's loggers and the HTTP client say, at DEBUG
        server = start_server(db, extra_args=["--log-level=debug", "--log-handler=urllib3:DEBUG"])
        admin = server.rpc()
        crons = {name: admin.execute("ir.model.data", "check_object_reference", "sync_queue", name)[1]
                 for name in ("ir_cron_create_queue", "ir_cron_send")}
        admin.execute("ir.cron", "method_direct_trigger", [crons["ir_cron_create_queue"]])
        admin.execute("ir.cron", "method_direct_trigger", [crons["ir_cron_send"]])
        connection_tests = {code: admin.execute("sync.system", "action_test_connection", [system_id])
                            for code, system_id in systems.items()}
        stored = db.shell(SECRETS_STORED)

        # a manager sees the credentials, but copies none, and Odoo's export is told they are not exportable
        manager = JsonRpc(server.url, db.dbname, "sync_manager", password)
        described = manager.execute("sync.system", "fields_get", list(EXPORTED_SECRETS), ["exportable"])
        copies = [manager.execute("sync.system", "copy", [system_id], {"code": f"copy_{code}"})[0]
                  for code, system_id in systems.items()]
        copied = manager.execute("sync.system", "read", copies, list(EXPORTED_SECRETS))
        # read only now: every request above is in the log
        log = server.logfile.read_text(errors="replace")
        dump = _dump(db)
        received = requests.get(f"{broker_url}/_log", timeout=10).json()
    finally:
        broker.kill()

    # the errors happened, and were told: otherwise nothing below would mean much
    assert len(stored["messages"]) == len(systems) * 2 and {row[0] for row in stored["messages"]} == set(systems)
    assert all(state in ("failed", "retry") and error for _code, state, error, _e in stored["messages"]), stored
    assert len(stored["attempt_errors"]) == len(systems) * 2 and all(stored["attempt_errors"]), stored
    failed_tests = {code: answer["params"]["type"] for code, answer in connection_tests.items()}
    assert failed_tests == dict.fromkeys(systems, "danger"), connection_tests
    assert "WSO2 transport of wso2_basic" in log and "RPC transport of rpc_down" in log, log[-3000:]
    assert {entry["path"] for entry in received} == {"/services/sync"}
    assert "connector" in dump and "LEAK-0" in dump  # the dump holds the data

    places = {
        "the server log": log,
        "the messages (state, last error, envelope)": json.dumps(stored["messages"]),
        "the attempts' errors": json.dumps(stored["attempt_errors"]),
        "the responses": json.dumps(stored["responses"]),
        "the connection tests' notifications": json.dumps(connection_tests),
        "the broker's received bodies": json.dumps([entry["body"] for entry in received]),
        "the database but sync_system": dump,
        "the copies of the systems": json.dumps(copied),
    }
    leaks = [(name, where) for name, secret in secrets.items() for where, text in places.items() if secret in text]
    assert not leaks, leaks
    assert {name: value["exportable"] for name, value in described.items()} == dict.fromkeys(EXPORTED_SECRETS, False)
    # empty in every copy (the extra headers back to their default, none)
    assert all(row[name] in (False, "{}") for row in copied for name in EXPORTED_SECRETS), copied


# ----------------------------------------------------------------------
# 7. a lost acknowledgement
# ----------------------------------------------------------------------
ACK_TARGET = r"""
env["ir.config_parameter"].set_param("sync_base.own_code", "tgt")
user = env["res.users"].create({
    "name": "Broker connector", "login": "broker_connector",
    GROUP_IDS: [(6, 0, [env.ref("base.group_user").id, env.ref("base.group_partner_manager").id])],
})
broker = env["sync.system"].create({"name": "Broker", "code": "broker", "transport": "test", "user_id": user.id,
                                    "relay_sources": "src"})
library = env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
data_type = env["sync.data.type"].create({
    "name": "Contacts", "library_id": library.id, "model_id": env["ir.model"]._get("res.partner").id,
    "system_ids": [(6, 0, broker.ids)], "accept_inbound": True, "trigger": "manual",
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                 (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True})],
})
data_type.action_generate_schema()
result = broker._generate_inbound_token()
"""

ACK_SOURCE = r"""
env["ir.config_parameter"].set_param("sync_base.own_code", "src")
broker = env["sync.system"].create({
    "name": "Broker", "code": "broker", "transport": "wso2", "wso2_url": BROKER_URL + "/services/sync",
    "wso2_ack_mode": "async", "wso2_batch": "single", "wso2_targets": "tgt", "ack_timeout": ACK_TIMEOUT,
    "batch_size": 20, "user_id": env.ref("base.user_admin").id,
})
library = env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
data_type = env["sync.data.type"].create({
    "name": "Contacts", "library_id": library.id, "model_id": env["ir.model"]._get("res.partner").id,
    "system_ids": [(6, 0, broker.ids)], "domain": "[('ref', 'like', 'LOST-')]",
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                 (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True})],
})
data_type.action_generate_schema()
result = broker._generate_inbound_token()
"""

ACK_CREATE = r"""
env["res.partner"].create([{"name": f"Lost ack {i}", "ref": f"LOST-{i}"} for i in range(COUNT)])
"""

ACK_WAKE = r"""
env.ref("sync_queue.ir_cron_resend")._trigger()
env.ref("sync_queue.ir_cron_send")._trigger()
"""

ACK_MESSAGES = "SELECT uuid, state, attempt_count, sent_at IS NOT NULL FROM sync_message ORDER BY id"

ACK_APPLIED = (
    "SELECT (SELECT count(*) FROM res_partner WHERE ref LIKE 'LOST-%%'), "
    "(SELECT count(DISTINCT ref) FROM res_partner WHERE ref LIKE 'LOST-%%'), "
    "(SELECT count(*) FROM sync_inbound_message), (SELECT count(DISTINCT message_uuid) FROM sync_inbound_message)"
)


def _wait(deadline, probe, interval=0.5):
    """``probe()`` until it returns something true or the deadline passes; its last value."""
    value = probe()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = probe()
    return value


def test_a_lost_acknowledgement_is_sent_again_and_applied_once(make_database, start_server):
    count, ack_timeout = 3, 5
    broker, broker_url = _start_broker()
    try:
        target = make_database("acktgt")
        target_token = target.shell(ACK_TARGET)
        target_server = start_server(target)
        source = make_database("acksrc")
        source_token = source.shell(f"BROKER_URL = {broker_url!r}\nACK_TIMEOUT = {ack_timeout}\n" + ACK_SOURCE)
        source_server = start_server(source, cron_threads=1)
        requests.post(f"{broker_url}/_control", timeout=10, json={
            "mode": "async", "drop_acks": 1,
            "relay": {"url": f"{target_server.url}/sync/broker/messages", "token": target_token},
            "ack": {"url": f"{source_server.url}/sync/broker/acks", "token": source_token},
        }).raise_for_status()
        source.shell(f"COUNT = {count}\n" + ACK_CREATE)  # its commit wakes the schedulers

        def messages():
            return {row[0]: (row[1], int(row[2])) for row in _rows(source, ACK_MESSAGES)}

        def first_round():
            dropped = requests.get(f"{broker_url}/_dropped", timeout=10).json()
            states = sorted(state for state, _count in messages().values())
            return (dropped, states) if dropped and states == ["done"] * (count - 1) + ["sent"] else None

        found = _wait(time.monotonic() + 120, first_round)
        assert found, (messages(), requests.get(f"{broker_url}/_dropped", timeout=10).json())
        dropped, _states = found
        assert len(dropped) == 1 and dropped[0]["answer"]["status"] == "done", dropped
        lost = dropped[0]["message_id"]
        assert messages()[lost] == ("sent", 1)
        # applied on the target already: only its acknowledgement was lost
        assert _rows(target, ACK_APPLIED) == [[str(count)] * 4]

        def done():
            source.shell(ACK_WAKE)
            return all(state == "done" for state, _count in messages().values())

        assert _wait(time.monotonic() + 120 + ack_timeout, done, interval=1), messages()
        final = messages()
        received = requests.get(f"{broker_url}/_log", timeout=10).json()
        acks = requests.get(f"{broker_url}/_acks", timeout=10).json()
    finally:
        broker.kill()
    sent = [json.loads(entry["body"]) for entry in received]
    copies = [envelope for envelope in sent if envelope["id"] == lost]
    print(f"\nthe message whose acknowledgement was lost: sent {len(copies)} times, {final[lost][1]} attempts; "
          f"{len(sent)} requests to the broker for {count} messages")
    # the source sent the identical envelope again, after its acknowledgement timeout
    assert len(copies) >= 2 and all(copy == copies[0] for copy in copies), copies
    assert final[lost][1] >= 2, final
    assert {ack["message_id"] for ack in acks} == set(final)
    # the replay was answered as the first copy was, and applied once
    assert [ack["answer"]["result"] for ack in acks if ack["message_id"] == lost][:1] == ["applied"], acks
    assert _rows(target, ACK_APPLIED) == [[str(count)] * 4]
    assert _rows(target, f"SELECT count(*) FROM sync_inbound_message WHERE message_uuid = '{lost}'") == [["1"]]


EXPORT_SETUP = r"""
import json

systems = env["sync.system"].create([
    {"name": "RPC", "code": "rpc_export", "transport": "rpc", "rpc_protocol": "jsonrpc", "rpc_host": "127.0.0.1",
     "rpc_port": 9, "rpc_database": "remote", "rpc_login": "connector", "rpc_mode": "suite",
     "rpc_password": SECRETS["rpc_password"], "rpc_remote_token": SECRETS["rpc_remote_token"]},
    {"name": "WSO2", "code": "wso2_export", "transport": "wso2", "wso2_url": "http://127.0.0.1:9/services/sync",
     "wso2_auth": "basic", "wso2_username": "sync", "wso2_password": SECRETS["wso2_password"],
     "wso2_client_id": "client", "wso2_client_secret": SECRETS["wso2_client_secret"],
     "wso2_headers": json.dumps({"apikey": SECRETS["wso2_apikey"]})},
])
systems[0]._generate_inbound_token()
env["res.users"].create({
    "name": "Sync manager", "login": "sync_manager", "password": PASSWORD,
    GROUP_IDS: [(6, 0, [env.ref("base.group_user").id, env.ref("sync_base.group_sync_manager").id,
                          env.ref("base.group_allow_export").id])],
})
result = systems.ids
"""


def test_the_export_of_systems_refuses_credentials(make_database, start_server):
    """A manager (allowed to export) exports systems: Odoo 18.0's dialog offers every field and its export
    (``export_data``, what the dialog's download calls) ignores ``exportable``, so the export refuses any
    credential with a clear message, also through a relation, and gives the other fields."""
    secrets = {name: f"{name.replace('_', '-')}-{uuid.uuid4().hex}" for name in (
        "rpc_password", "rpc_remote_token", "wso2_password", "wso2_client_secret", "wso2_apikey")}
    password = "Manager-1234"
    db = make_database("export")
    ids = db.shell(f"SECRETS = {secrets!r}\nPASSWORD = {password!r}\n" + EXPORT_SETUP)
    server = start_server(db)
    manager = JsonRpc(server.url, db.dbname, "sync_manager", password)
    # the manager reads the credentials: that is what the group is for
    assert secrets["rpc_password"] in json.dumps(manager.execute("sync.system", "read", ids, ["rpc_password"]))
    outputs, refusals = [], []
    for fields in (["code", "name", "rpc_password"], ["code", *EXPORTED_SECRETS]):
        try:
            outputs.append(manager.execute("sync.system", "export_data", ids, fields))
        except JsonRpcError as exc:
            refusals.append(str(exc))
    tokens = manager.execute("sync.inbound.token", "search", [])
    assert tokens
    try:
        # through a relation: the credential of each token's system
        outputs.append(manager.execute("sync.inbound.token", "export_data", tokens, ["name", "system_id/rpc_password"]))
    except JsonRpcError as exc:
        refusals.append(str(exc))
    assert len(refusals) == 3, (refusals, outputs)
    assert all("Credentials are never exported" in refusal for refusal in refusals), refusals
    plain = manager.execute("sync.system", "export_data", ids, ["code", "name", "rpc_login", "wso2_username"])
    assert sorted(row[0] for row in plain["datas"]) == ["rpc_export", "wso2_export"]
    assert not [name for name, secret in secrets.items() if secret in json.dumps([plain, outputs, refusals])]
