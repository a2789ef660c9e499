"""The inbound protocol with real commits and concurrent requests, which HttpCase cannot show."""

import concurrent.futures
import threading
import time
import uuid

import psycopg2
import requests

from tests.e2e.helpers import concurrently

SETUP = r"""
user = env["res.users"].create({
    "name": "Shop connector", "login": "shop_connector",
    GROUP_IDS: [(6, 0, [env.ref("base.group_user").id, env.ref("base.group_partner_manager").id])],
})
system = env["sync.system"].create({"name": "Shop", "code": "shop", "transport": "test", "test_outcome": "accepted",
                                    "user_id": user.id, "ack_timeout": 3600})
library = env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
data_type = env["sync.data.type"].create({
    "name": "Contacts", "library_id": library.id, "model_id": env["ir.model"]._get("res.partner").id,
    "system_ids": [(6, 0, system.ids)], "accept_inbound": True,
    "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                 (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True})],
})
data_type.action_generate_schema()
env["res.partner"].create([{"name": name, "ref": name} for name in ("Positive", "Negative", "Racing")])
result = {"token": system._generate_inbound_token(), "type": data_type.message_type}
"""

QUEUE = "env['sync.message']._cron_create_queue()\nresult = env['sync.message'].search_count([])\n"
SEND = "result = env['sync.message']._cron_send()\n"
MESSAGES = r"""
result = {m.record_name: {"uuid": m.uuid, "state": m.state, "error": m.last_error or "",
                          "responses": m.response_ids.mapped("result")}
          for m in env["sync.message"].search([])}
"""


def envelope_of(setup, record_id, **payload):
    """A valid envelope of the shop for partner ``record_id`` there, with ``payload``."""
    return {
        "id": str(uuid.uuid4()), "type": setup["type"], "operation": "upsert", "source": "shop", "targets": [],
        "record": {"model": "res.partner", "id": record_id}, "created_at": "2026-11-23T08:00:00Z", "version": 1,
        "payload": payload,
    }


def post(server, path, body, token):
    return requests.post(f"{server.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def test_acknowledgements_move_sent_messages(make_database, start_server):
    db = make_database("acks")
    setup = db.shell(SETUP)
    assert db.shell(QUEUE) == 3
    db.shell("env['sync.system'].search([]).write({'test_delay': 0})\n" + SEND)
    messages = db.shell(MESSAGES)
    assert {m["state"] for m in messages.values()} == {"sent"}
    server = start_server(db)
    token = setup["token"]
    answer = post(server, "/sync/shop/acks", [
        {"message_id": messages["Positive"]["uuid"], "status": "done", "remote_model": "res.partner",
         "remote_ref": "501"},
        {"message_id": messages["Negative"]["uuid"], "status": "error", "permanent": False, "reason": "locked"},
    ], token)
    assert answer.status_code == 200, answer.text
    assert [item["result"] for item in answer.json()] == ["applied", "applied"]
    after = db.shell(MESSAGES)
    assert after["Positive"]["state"] == "done"
    assert after["Negative"]["state"] == "retry" and "locked" in after["Negative"]["error"]
    assert db.shell("result = env['sync.binding'].search([]).mapped('remote_ref')\n") == ["501"]
    # the same acknowledgement twice at once: one outcome
    racing = {"message_id": messages["Negative"]["uuid"], "status": "error", "permanent": True, "reason": "gone"}
    db.shell("m = env['sync.message'].search([('record_name', '=', 'Negative')])\nm.state = 'sent'\n")
    results = concurrently(*[lambda: post(server, "/sync/shop/acks", racing, token)] * 4, barrier=True)
    assert sorted(r.json()["result"] for r in results) == ["applied", "duplicate", "duplicate", "duplicate"]
    final = db.shell(MESSAGES)["Negative"]
    assert final["state"] == "failed" and "gone" in final["error"]


def test_acknowledgement_during_the_send_call(make_database, start_server):
    db = make_database("ackrace")
    setup = db.shell(SETUP)
    db.shell(QUEUE)
    db.shell("env['sync.system'].search([]).write({'test_delay': 15})\n")
    server = start_server(db)
    sender = threading.Thread(target=lambda: db.shell(SEND))
    sender.start()
    try:
        # poll with psql, not an Odoo shell: a shell starts in seconds on a slow machine and could miss the window
        deadline = time.monotonic() + 60
        state = message_uuid = None
        while time.monotonic() < deadline:
            row = db.cluster.psql("SELECT state, uuid FROM sync_message WHERE record_name = 'Racing'", dbname=db.dbname)
            state, message_uuid = row.split("|") if row else (None, None)
            if state == "sending":
                break
            time.sleep(0.1)
        assert state == "sending"
        answer = post(server, "/sync/shop/acks", {"message_id": message_uuid, "status": "done",
                                                  "remote_model": "res.partner", "remote_ref": "9"}, setup["token"])
        assert answer.json()["result"] == "applied"
    finally:
        sender.join(120)
    # the transport's late "accepted" never undoes the acknowledgement
    final = db.shell(MESSAGES)["Racing"]
    assert final["state"] == "done", final
    assert final["responses"] == ["applied"]


def test_the_same_envelope_posted_at_once_is_applied_once(make_database, start_server):
    db = make_database("replay")
    setup = db.shell(SETUP)
    server = start_server(db)
    envelope = envelope_of(setup, 4242, name="Twice at once", ref="TWICE")
    responses = concurrently(*[lambda: post(server, "/sync/shop/messages", envelope, setup["token"])] * 6, barrier=True)
    assert {r.status_code for r in responses} == {200}, [r.text for r in responses]
    answers = [r.json() for r in responses]
    assert all(answer == answers[0] for answer in answers)
    assert answers[0]["status"] == "done"
    counts = db.shell(
        "result = [env['res.partner'].search_count([('ref', '=', 'TWICE')]), "
        "env['sync.inbound.message'].search_count([]), env['sync.binding'].search_count([])]\n")
    assert counts == [1, 1, 1]


def test_an_envelope_that_meets_a_concurrent_update_is_transient_and_its_replay_applies_it(make_database,
                                                                                           start_server):
    """A lock or serialization failure answers 503 with permanent false, writes nothing of the document, and
    the sender's replay of the same envelope applies it."""
    db = make_database("locked")
    setup = db.shell(SETUP)
    server = start_server(db)
    envelope = envelope_of(setup, 77, name="Renamed by the shop", ref="Positive")
    holder = psycopg2.connect(host="127.0.0.1", port=db.cluster.port, user="postgres", dbname=db.dbname)
    try:
        holder.cursor().execute("UPDATE res_partner SET comment = 'held' WHERE ref = 'Positive'")
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pending = pool.submit(post, server, "/sync/shop/messages", envelope, setup["token"])
            # commit only once the request waits for the row: its snapshot is then older than the update
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not int(db.cluster.psql(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    f"AND datname = '{db.dbname}'") or 0):
                time.sleep(0.05)
            holder.commit()
            first = pending.result(120)
    finally:
        holder.close()
    assert first.status_code == 503, first.text
    assert first.json()["status"] == "error" and first.json()["permanent"] is False
    assert db.cluster.psql("SELECT name FROM res_partner WHERE ref = 'Positive'", dbname=db.dbname) == "Positive"
    second = post(server, "/sync/shop/messages", envelope, setup["token"])
    assert second.status_code == 200, second.text
    assert second.json()["status"] == "done"
    row = db.cluster.psql("SELECT state, attempt_count FROM sync_inbound_message "
                          f"WHERE message_uuid = '{envelope['id']}'", dbname=db.dbname)
    assert row == "done|2"
    assert db.cluster.psql("SELECT name, comment FROM res_partner WHERE ref = 'Positive'",
                           dbname=db.dbname) == "Renamed by the shop|held"
