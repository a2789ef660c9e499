"""Source Odoo -> the test broker (a real HTTP server on loopback) -> target Odoo running the suite, and back."""

import subprocess
import sys
import time

import requests

from tests.e2e.conftest import ROOT

BROKER = ROOT / "sync_transport_wso2" / "tests" / "broker_server.py"

TARGET = r"""
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

SOURCE = r"""
env["ir.config_parameter"].set_param("sync_base.own_code", "src")
broker = env["sync.system"].create({
    "name": "Broker", "code": "broker", "transport": "wso2", "wso2_url": BROKER_URL + "/services/sync",
    "wso2_ack_mode": "async", "wso2_batch": BATCH, "wso2_targets": "tgt", "ack_timeout": 3600, "batch_size": 20,
    "user_id": env.ref("base.user_admin").id,
})
library = env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
data_type = env["sync.data.type"].create({
    "name": "Contacts", "library_id": library.id, "model_id": env["ir.model"]._get("res.partner").id,
    "system_ids": [(6, 0, broker.ids)], "domain": "[('ref', 'like', 'WSO2-')]",
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                 (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True})],
})
data_type.action_generate_schema()
env["res.partner"].create([{"name": f"Broker {i}", "ref": f"WSO2-{i:03d}"} for i in range(COUNT)])
result = broker._generate_inbound_token()
"""

SEND = r"""
env["sync.message"]._cron_create_queue()
env.cr.commit()
env["sync.message"]._cron_send()
env.cr.commit()
result = dict(env["sync.message"]._read_group([], ["state"], ["__count"]))
"""

STATES = "result = dict(env['sync.message']._read_group([], ['state'], ['__count']))\n"


def _start_broker():
    process = subprocess.Popen([sys.executable, str(BROKER), "--port", "0"], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.startswith("listening on "), line
    return process, f"http://127.0.0.1:{int(line.split()[-1])}"


def _run(make_database, start_server, batch):
    broker, broker_url = _start_broker()
    try:
        target = make_database("wso2tgt")
        target_token = target.shell(TARGET)
        target_server = start_server(target)
        source = make_database("wso2src")
        source_token = source.shell(f"BROKER_URL = {broker_url!r}\nBATCH = {batch!r}\nCOUNT = 30\n" + SOURCE)
        source_server = start_server(source)
        requests.post(f"{broker_url}/_control", timeout=10, json={
            "mode": "async", "duplicate": True,
            "relay": {"url": f"{target_server.url}/sync/broker/messages", "token": target_token},
            "ack": {"url": f"{source_server.url}/sync/broker/acks", "token": source_token},
        }).raise_for_status()
        states = source.shell(SEND)
        assert "done" in states or "sent" in states, states
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            acks = requests.get(f"{broker_url}/_acks", timeout=10).json()
            if len(acks) >= 30:
                break
            time.sleep(0.5)
        assert len(acks) == 30, acks
        assert {ack["answer"]["result"] for ack in acks} == {"applied"}, acks
        assert source.shell(STATES) == {"done": 30}
        counts = target.shell("result = [env['res.partner'].search_count([('ref', 'like', 'WSO2-')]), "
                              "len(set(env['res.partner'].search([('ref', 'like', 'WSO2-')]).mapped('ref')))]\n")
        assert counts == [30, 30], counts
        log = requests.get(f"{broker_url}/_log", timeout=10).json()
        assert {entry["headers"]["X-Sync-Targets"] for entry in log} == {"tgt"}
        assert {entry["headers"]["X-Sync-Source"] for entry in log} == {"src"}
        return log
    finally:
        broker.kill()


def test_through_the_broker_one_per_request(make_database, start_server):
    log = _run(make_database, start_server, "single")
    assert len(log) == 30


def test_through_the_broker_batched(make_database, start_server):
    log = _run(make_database, start_server, "batch")
    assert len(log) == 2
