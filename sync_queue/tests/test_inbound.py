"""The inbound protocol over real HTTP: /sync/<code>/messages, /acks and /health."""

import json
import logging
import uuid

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, tagged

from odoo.addons.sync_base import compat
from odoo.addons.sync_base.lib import envelope as envelope_lib
from odoo.addons.sync_base.tests import series


@tagged("post_install", "-at_install")
class TestInbound(series.AllowAllRequests, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.inbound_user = cls.env["res.users"].create({
            "name": "Shop connector", "login": "shop_connector",
            # the rights on the records it writes, and no Synchronization group: the suite reads its configuration
            compat.GROUP_IDS: [(6, 0, [
                cls.env.ref("base.group_user").id, cls.env.ref("base.group_partner_manager").id,
            ])],
        })
        System = cls.env["sync.system"]
        cls.shop = System.create({"name": "Shop", "code": "shop", "transport": "test", "batch_size": 3,
                                  "user_id": cls.inbound_user.id})
        cls.broker = System.create({"name": "Broker", "code": "broker", "transport": "test",
                                    "user_id": cls.inbound_user.id, "relay_sources": "shop_eu, shop_us"})
        cls.erp = System.create({"name": "ERP", "code": "erp", "transport": "test"})
        cls.shop_eu = System.create({"name": "Shop EU", "code": "shop_eu", "transport": "test"})
        cls.shop_token = cls.shop._generate_inbound_token()
        cls.broker_token = cls.broker._generate_inbound_token()
        cls.library = cls.env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
        cls.contact_type = cls.env["sync.data.type"].create({
            "name": "Contacts", "library_id": cls.library.id,
            "model_id": cls.env["ir.model"]._get("res.partner").id,
            "system_ids": [(6, 0, (cls.shop | cls.broker | cls.erp | cls.shop_eu).ids)],
            "accept_inbound": True, "delete_mode": "archive",
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                         (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True}),
                         (0, 0, {"line_type": "field", "value": "email", "name": "email"})],
        })
        cls.contact_type.action_generate_schema()
        cls.message_type = cls.contact_type.message_type

    # ------------------------------------------------------------------
    def envelope(self, ref="C1", name="Ada", source="shop", operation="upsert", **payload):
        return envelope_lib.build(self.message_type, operation, source, ["main"], "res.partner",
                                  abs(hash(ref)) % 100000 + 1, {"ref": ref, "name": name, **payload})

    def post(self, path, body, token=None, content_type="application/json", raw=None):
        headers = {"Content-Type": content_type} if content_type else {}
        if token is not False:
            headers["Authorization"] = f"Bearer {token or self.shop_token}"
        data = raw if raw is not None else json.dumps(body).encode()
        return self.url_open(path, data=data, headers=headers)

    def partners(self, ref):
        return self.env["res.partner"].with_context(active_test=False).search([("ref", "=", ref)])

    def counts(self):
        self.env.flush_all()
        return (self.env["sync.inbound.message"].search_count([]), self.env["sync.response"].search_count([]),
                self.env["res.partner"].with_context(active_test=False).search_count([]),
                self.env["sync.binding"].search_count([]))

    # ------------------------------------------------------------------
    def test_valid_envelope_applied_once_even_when_posted_twice(self):
        envelope = self.envelope(email="ada@example.com")
        first = self.post("/sync/shop/messages", envelope)
        self.assertEqual(first.status_code, 200, first.text)
        answer = first.json()
        partner = self.partners("C1")
        self.assertEqual(len(partner), 1)
        self.assertEqual(partner.email, "ada@example.com")
        self.assertEqual(answer, {"message_id": envelope["id"], "status": "done", "permanent": False, "reason": None,
                                  "remote_model": "res.partner", "remote_ref": str(partner.id)})
        binding = self.env["sync.binding"].search([("system_id", "=", self.shop.id)])
        self.assertEqual(binding.remote_ref, f"shop/res.partner/{envelope['record']['id']}")
        self.assertEqual(binding.res_id, partner.id)
        before = self.counts()
        second = self.post("/sync/shop/messages", envelope)
        self.assertEqual((second.status_code, second.json()), (200, answer))
        self.assertEqual(self.counts(), before)
        inbound = self.env["sync.inbound.message"].search([("message_uuid", "=", envelope["id"])])
        self.assertEqual((inbound.state, inbound.attempt_count, inbound.res_id), ("done", 1, partner.id))
        self.assertEqual(inbound.system_id, self.shop)

    def test_conflicting_replay_gets_409(self):
        envelope = self.envelope()
        self.assertEqual(self.post("/sync/shop/messages", envelope).status_code, 200)
        before = self.counts()
        changed = dict(envelope, payload={"ref": "C1", "name": "Someone else"})
        response = self.post("/sync/shop/messages", changed)
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["status"], "error")
        self.assertTrue(response.json()["permanent"])
        self.assertEqual(self.counts(), before)
        self.assertEqual(self.partners("C1").name, "Ada")

    def test_batch_with_one_bad_envelope_applies_the_others(self):
        good1, good2 = self.envelope("B1", "One"), self.envelope("B2", "Two")
        bad = self.envelope("B3", "Three")
        bad["payload"]["email"] = 42  # the schema wants a string
        response = self.post("/sync/shop/messages", [good1, bad, good2])
        self.assertEqual(response.status_code, 200)
        answers = response.json()
        self.assertEqual([a["status"] for a in answers], ["done", "error", "done"])
        self.assertEqual([a["message_id"] for a in answers], [good1["id"], bad["id"], good2["id"]])
        self.assertTrue(answers[1]["permanent"])
        self.assertIn("email", answers[1]["reason"])
        self.assertTrue(self.partners("B1") and self.partners("B2"))
        self.assertFalse(self.partners("B3"))
        failed = self.env["sync.inbound.message"].search([("message_uuid", "=", bad["id"])])
        self.assertEqual(failed.state, "failed")

    def test_single_envelope_statuses(self):
        unknown_type = dict(self.envelope("U1"), type="contacts.nothing")
        response = self.post("/sync/shop/messages", unknown_type)
        self.assertEqual(response.status_code, 422)
        self.assertIn("contacts.nothing", response.json()["reason"])
        bad_version = dict(self.envelope("U2"), version=7)
        response = self.post("/sync/shop/messages", bad_version)
        self.assertEqual(response.status_code, 422)
        self.assertIn("version", response.json()["reason"])
        self.assertFalse(self.partners("U1") | self.partners("U2"))

    def test_an_invalid_envelope_is_kept_and_answered_again(self):
        bad_version = dict(self.envelope("V1"), version=7)
        first = self.post("/sync/shop/messages", bad_version)
        self.assertEqual(first.status_code, 422)
        kept = self.env["sync.inbound.message"].search([("message_uuid", "=", bad_version["id"])])
        self.assertEqual((kept.state, kept.http_status, kept.system_id), ("failed", 422, self.shop))
        self.assertIn("version", kept.error)
        self.assertEqual(json.loads(kept.envelope)["version"], 7)
        before = self.counts()
        again = self.post("/sync/shop/messages", bad_version)
        self.assertEqual((again.status_code, again.json()), (422, first.json()))
        # the same id with another body: a conflict, as for a valid envelope
        other = self.post("/sync/shop/messages", dict(bad_version, version=1))
        self.assertEqual(other.status_code, 409)
        self.assertEqual(self.counts(), before)
        self.assertFalse(self.partners("V1"))
        # an id spelled otherwise is itself what is wrong: not kept, so that a resend spelled right is applied
        braced = dict(self.envelope("V3"), version=7)
        braced["id"] = "{" + braced["id"] + "}"
        self.assertEqual(self.post("/sync/shop/messages", braced).status_code, 422)
        self.assertEqual(self.counts(), before)
        # without an id at all: refused, not kept
        no_key = self.envelope("V4")
        del no_key["id"]
        response = self.post("/sync/shop/messages", no_key)
        self.assertEqual((response.status_code, response.json()["message_id"]), (422, None))
        self.assertIn("id", response.json()["reason"])
        self.assertEqual(self.counts(), before)
        # without a usable id there is nothing to keep it by: refused, not kept
        no_id = dict(self.envelope("V2"), id="not-a-uuid")
        response = self.post("/sync/shop/messages", no_id)
        self.assertEqual((response.status_code, response.json()["message_id"]), (422, "not-a-uuid"))
        self.assertEqual(self.counts(), before)

    def test_a_wrong_method_gets_the_protocol_json(self):
        before = self.counts()
        for method, path, allowed in (("GET", "/sync/shop/messages", "POST"), ("PUT", "/sync/shop/acks", "POST"),
                                      ("POST", "/sync/shop/health", "GET")):
            response = self.opener.request(method, self.base_url() + path, timeout=30, data=b"{}",
                                           headers={"Authorization": f"Bearer {self.shop_token}",
                                                    "Content-Type": "application/json"})
            self.assertEqual(response.status_code, 405, (method, path))
            self.assertEqual(response.json()["error"]["code"], "method_not_allowed")
            self.assertEqual(response.headers["Allow"], allowed)
        # HEAD goes where GET does, as monitors use it
        head = self.opener.head(self.base_url() + "/sync/shop/health", timeout=30,
                                headers={"Authorization": f"Bearer {self.shop_token}"})
        self.assertEqual(head.status_code, 200)
        self.assertEqual(self.counts(), before)

    def test_refusals_write_nothing(self):
        before = self.counts()
        envelope = self.envelope("R1")
        too_many = [self.envelope(f"R{i}") for i in range(4)]  # batch_size is 3
        cases = [
            ("malformed json", {"raw": b'{"id": '}, 400, "malformed_json"),
            ("bad body", {"body": "just a string"}, 400, "bad_body"),
            ("too deep", {"body": json.loads("[" * 40 + "]" * 40)}, 400, "too_deep"),
            ("no token", {"body": envelope, "token": False}, 401, "unauthorized"),
            ("wrong token", {"body": envelope, "token": "sync_wrongtoken_0123456789abcdef"}, 401, "unauthorized"),
            ("other system's token", {"body": envelope, "token": self.broker_token}, 401, "unauthorized"),
            ("a number", {"body": 42}, 400, "bad_body"),
            ("null", {"body": None, "raw": b"null"}, 400, "bad_body"),
            ("too large", {"raw": b" " * 2048 + json.dumps(envelope).encode(), "size": 1024}, 413, "too_large"),
            # chunked: no Content-Length, cut at the limit while it is read
            ("too large, chunked", {"raw": (b" " * 512 for _i in range(8)), "size": 1024}, 413, "too_large"),
            ("too many", {"body": too_many}, 413, "too_many"),
            ("content type", {"body": envelope, "content_type": "text/plain"}, 415, "bad_content_type"),
        ]
        # logging.INFO, not "INFO": Odoo names its level 25 "INFO" too
        with self.assertLogs("odoo.addons.sync_queue.controllers.main", logging.INFO) as logs:
            self._refuse_each(cases, before)
        # each refusal is logged with its reason, never with a token
        self.assertEqual(len(logs.output), len(cases))
        for token in (self.shop_token, self.broker_token, "sync_wrongtoken_0123456789abcdef"):
            self.assertNotIn(token, "\n".join(logs.output))
        self.assertIn("unauthorized", "\n".join(logs.output))
        # an unknown code answers exactly as a wrong token does
        unknown = self.post("/sync/nobody/messages", envelope)
        wrong = self.post("/sync/shop/messages", envelope, token="sync_wrongtoken_0123456789abcdef")
        self.assertEqual((unknown.status_code, unknown.json()), (wrong.status_code, wrong.json()))
        self.assertEqual(self.counts(), before)

    def _refuse_each(self, cases, before):
        for label, kwargs, status, code in cases:
            with self.subTest(label):
                size = kwargs.pop("size", None)
                if size:
                    self.shop.inbound_max_bytes = size
                response = self.post("/sync/shop/messages", kwargs.pop("body", None), **kwargs)
                self.shop.inbound_max_bytes = 1024 * 1024
                self.assertEqual(response.status_code, status, response.text)
                self.assertEqual(response.headers["Content-Type"].split(";")[0], "application/json")
                error = response.json()["error"]
                self.assertEqual(error["code"], code)
                self.assertTrue(error["message"])
                self.assertEqual(self.counts(), before)

    def test_expired_revoked_archived_and_paused(self):
        envelope = self.envelope("P1")
        token = self.shop.token_ids
        token.action_revoke()
        self.assertEqual(self.post("/sync/shop/messages", envelope).status_code, 401)
        fresh = self.shop._generate_inbound_token(expires_at="2000-01-01 00:00:00")
        self.assertEqual(self.post("/sync/shop/messages", envelope, token=fresh).status_code, 401)
        valid = self.shop._generate_inbound_token()
        self.shop.paused = True
        response = self.post("/sync/shop/messages", envelope, token=valid)
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["error"]["code"], "paused")
        self.assertTrue(int(response.headers["Retry-After"]) > 0)
        self.shop.paused = False
        self.shop.active = False
        response = self.post("/sync/shop/messages", envelope, token=valid)
        self.assertEqual((response.status_code, response.json()["error"]["code"]), (403, "archived"))
        self.assertFalse(self.partners("P1"))
        self.assertFalse(self.env["sync.inbound.message"].search([]))

    def test_broker_relays_for_allowed_origins_only(self):
        allowed = self.envelope("E1", "Relayed", source="shop_eu")
        response = self.post("/sync/broker/messages", allowed, token=self.broker_token)
        self.assertEqual(response.status_code, 200, response.text)
        binding = self.env["sync.binding"].search([("system_id", "=", self.broker.id)])
        self.assertEqual(binding.remote_ref, f"shop_eu/res.partner/{allowed['record']['id']}")
        # the same record id from another allowed origin is another record: no collision
        other_origin = self.envelope("E2", "Other origin", source="shop_us")
        other_origin["record"] = allowed["record"]
        self.assertEqual(self.post("/sync/broker/messages", other_origin, token=self.broker_token).status_code, 200)
        self.assertEqual(len(self.env["sync.binding"].search([("system_id", "=", self.broker.id)])), 2)
        refused = self.envelope("E3", "Smuggled", source="shop_cn")
        response = self.post("/sync/broker/messages", refused, token=self.broker_token)
        self.assertEqual(response.status_code, 422)
        self.assertIn("shop_cn", response.json()["reason"])
        self.assertFalse(self.partners("E3"))
        # a shop may not speak for another origin either
        response = self.post("/sync/shop/messages", self.envelope("E4", source="shop_eu"))
        self.assertEqual(response.status_code, 422)

    def test_no_message_back_to_the_sender_or_its_origin(self):
        self.env["sync.change"].search([]).unlink()
        self.assertEqual(self.post("/sync/shop/messages", self.envelope("N1", "Ping")).status_code, 200)
        self.assertEqual(self.post("/sync/broker/messages", self.envelope("N2", "Pong", source="shop_eu"),
                                   token=self.broker_token).status_code, 200)
        # each request's commit (a savepoint in tests) ran its precommit hooks: the captured changes are there
        self.env["sync.message"]._cron_create_queue()
        sent_to = {}
        for message in self.env["sync.message"].search([]):
            sent_to.setdefault(message.record_name, set()).add(message.system_id.code)
        self.assertEqual(sent_to, {"Ping": {"broker", "erp", "shop_eu"}, "Pong": {"shop", "erp"}})

    def test_an_update_received_goes_nowhere_back_whenever_it_is_flushed(self):
        self.assertEqual(self.post("/sync/shop/messages", self.envelope("N3", "Before")).status_code, 200)
        self.env["sync.change"].search([]).unlink()
        # the update of a record received before: an UPDATE flushed at the request's commit, in the transaction's
        # own environment, not in the one that applied the document
        self.assertEqual(self.post("/sync/shop/messages", self.envelope("N3", "After")).status_code, 200)
        self.env["sync.message"]._cron_create_queue()
        sent_to = {m.system_id.code for m in self.env["sync.message"].search([("record_name", "=", "After")])}
        self.assertTrue(sent_to)
        self.assertNotIn("shop", sent_to)

    def test_a_recompute_on_another_record_caused_by_a_received_change_goes_nowhere_back(self):
        self.contact_type.line_ids = [(0, 0, {"line_type": "field", "value": "commercial_company_name",
                                              "name": "company_name"})]
        self.contact_type.action_generate_schema()
        self.message_type = self.contact_type.message_type
        self.assertEqual(self.post("/sync/shop/messages", self.envelope("CO9", "Acme")).status_code, 200)
        company = self.partners("CO9")
        company.is_company = True
        kid = self.env["res.partner"].create({"name": "Kid", "parent_id": company.id})
        self.env.flush_all()
        self.env["sync.change"].search([]).unlink()
        self.env["sync.message"].search([]).unlink()
        # the shop renames the company: Odoo recomputes the contact's commercial company name, flushed at commit
        self.assertEqual(self.post("/sync/shop/messages", self.envelope("CO9", "Acme Renamed")).status_code, 200)
        self.env.invalidate_all()
        self.assertEqual(kid.commercial_company_name, "Acme Renamed")
        self.env["sync.message"]._cron_create_queue()
        sent = {(m.res_id, m.system_id.code) for m in self.env["sync.message"].search([])}
        self.assertIn((kid.id, "erp"), sent)
        self.assertNotIn((kid.id, "shop"), sent, "changed only because of the shop's own change")
        self.assertNotIn((company.id, "shop"), sent)

    def test_deletion_follows_delete_mode(self):
        upsert = self.envelope("D1", "To archive")
        self.assertEqual(self.post("/sync/shop/messages", upsert).status_code, 200)
        partner = self.partners("D1")
        deletion = envelope_lib.build(self.message_type, "delete", "shop", [], "res.partner", upsert["record"]["id"],
                                      {"ref": "D1"})
        response = self.post("/sync/shop/messages", deletion)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertFalse(partner.active)
        self.assertTrue(partner.exists())
        self.contact_type.delete_mode = "unlink"
        again = envelope_lib.build(self.message_type, "delete", "shop", [], "res.partner", upsert["record"]["id"],
                                   {"ref": "D1"})
        self.assertEqual(self.post("/sync/shop/messages", again).status_code, 200)
        self.assertFalse(partner.exists())
        self.assertFalse(self.env["sync.binding"].search([("system_id", "=", self.shop.id)]))
        # deleting what is not there is done: a replayed deletion succeeds
        gone = envelope_lib.build(self.message_type, "delete", "shop", [], "res.partner", 999, {"ref": "nothing"})
        self.assertEqual(self.post("/sync/shop/messages", gone).json()["status"], "done")

    def test_transient_failure_retried_by_replay_and_by_button(self):
        self.shop.user_id = False
        envelope = self.envelope("T1", "Later")
        response = self.post("/sync/shop/messages", envelope)
        self.assertEqual(response.status_code, 503)
        self.assertFalse(response.json()["permanent"])
        inbound = self.env["sync.inbound.message"].search([("message_uuid", "=", envelope["id"])])
        self.assertEqual(inbound.state, "retry")
        self.shop.user_id = self.inbound_user
        self.assertEqual(self.post("/sync/shop/messages", envelope).status_code, 200)
        self.assertEqual(inbound.state, "done")
        self.assertEqual(inbound.attempt_count, 2)
        self.assertEqual(len(self.partners("T1")), 1)
        # the retry button of an incoming message
        self.shop.user_id = False
        second = self.envelope("T2", "Button")
        self.post("/sync/shop/messages", second)
        failed = self.env["sync.inbound.message"].search([("message_uuid", "=", second["id"])])
        self.shop.user_id = self.inbound_user
        failed.action_retry()
        self.assertEqual(failed.state, "done")
        self.assertTrue(self.partners("T2"))

    def test_vacuum_keeps_incoming_messages_for_the_configured_days(self):
        old, recent = self.envelope("V1"), self.envelope("V2")
        self.post("/sync/shop/messages", [old, recent])
        Inbound = self.env["sync.inbound.message"]
        Inbound.search([("message_uuid", "=", old["id"])]).received_at = "2000-01-01 00:00:00"
        self.env["ir.config_parameter"].set_param("sync_queue.inbound_keep_days", 3)
        self.env["sync.message"]._cron_vacuum()
        self.assertEqual(Inbound.search([]).mapped("message_uuid"), [recent["id"]])

    def test_replay_in_another_case_is_the_same_envelope(self):
        envelope = self.envelope("K1", "Case")
        self.assertEqual(self.post("/sync/shop/messages", envelope).status_code, 200)
        upper = dict(envelope, id=envelope["id"].upper())
        self.assertEqual(self.post("/sync/shop/messages", upper).json()["status"], "done")
        self.assertEqual(len(self.env["sync.inbound.message"].search([])), 1)

    def test_deletion_keeps_the_bindings_of_other_systems(self):
        upsert = self.envelope("D2", "Shared")
        self.post("/sync/shop/messages", upsert)
        partner = self.partners("D2")
        self.env["sync.binding"]._bind(self.erp, partner, "res.partner", "900")
        self.contact_type.delete_mode = "unlink"
        deletion = envelope_lib.build(self.message_type, "delete", "shop", [], "res.partner", upsert["record"]["id"],
                                      {"ref": "D2"})
        self.assertEqual(self.post("/sync/shop/messages", deletion).status_code, 200)
        self.assertFalse(partner.exists())
        remaining = self.env["sync.binding"].search([("res_id", "=", partner.id), ("model", "=", "res.partner")])
        self.assertEqual(remaining.system_id, self.erp)

    def test_only_managers_retry_incoming_messages(self):
        self.shop.user_id = False
        envelope = self.envelope("M1")
        self.post("/sync/shop/messages", envelope)
        failed = self.env["sync.inbound.message"].search([("message_uuid", "=", envelope["id"])])
        with self.assertRaises(AccessError):
            failed.with_user(self.inbound_user).action_retry()

    def test_accept_inbound_is_unique_per_type_and_system(self):
        with self.assertRaises(Exception) as caught:
            self.contact_type.copy({"name": "Contacts again", "accept_inbound": True})
        self.assertIn("only one may", str(caught.exception))

    # ------------------------------------------------------------------
    def test_acks(self):
        self.shop.batch_size = 10
        message = self.env["sync.message"].create({
            "system_id": self.shop.id, "data_type_id": self.contact_type.id, "model": "res.partner",
            "res_id": self.inbound_user.partner_id.id, "operation": "upsert", "state": "sent",
        })
        other = self.env["sync.message"].create({
            "system_id": self.erp.id, "data_type_id": self.contact_type.id, "model": "res.partner",
            "res_id": self.inbound_user.partner_id.id, "operation": "upsert", "state": "sent",
        })
        acks = [
            {"message_id": message.uuid, "status": "done", "remote_model": "res.partner", "remote_ref": "77"},
            {"message_id": other.uuid, "status": "done"},
            {"message_id": str(uuid.uuid4()), "status": "done"},
            {"message_id": message.uuid, "status": "done", "remote_model": "res.partner", "remote_ref": "77"},
            {"status": "done"},
        ]
        response = self.post("/sync/shop/acks", acks)
        self.assertEqual(response.status_code, 200, response.text)
        results = [item["result"] for item in response.json()]
        self.assertEqual(results, ["applied", "unknown", "unknown", "duplicate", "unknown"])
        self.assertIn("message_id", response.json()[4]["error"])
        self.assertEqual(message.state, "done")
        self.assertEqual(other.state, "sent")
        binding = self.env["sync.binding"].search([("system_id", "=", self.shop.id)])
        self.assertEqual((binding.remote_ref, binding.res_id), ("77", self.inbound_user.partner_id.id))
        self.assertEqual(len(message.response_ids), 2)
        # a negative one, alone
        failing = message.copy({"state": "sent"})
        response = self.post("/sync/shop/acks", {"message_id": failing.uuid, "status": "error", "permanent": True,
                                                 "reason": "no such customer"})
        self.assertEqual(response.json(), {"message_id": failing.uuid, "result": "applied"})
        self.assertEqual(failing.state, "failed")
        self.assertIn("no such customer", failing.last_error)

    def test_health(self):
        self.env["sync.message"].create({
            "system_id": self.shop.id, "data_type_id": self.contact_type.id, "model": "res.partner",
            "res_id": self.inbound_user.partner_id.id, "operation": "upsert",
        })
        response = self.url_open("/sync/shop/health", headers={"Authorization": f"Bearer {self.shop_token}"})
        self.assertEqual(response.status_code, 200, response.text)
        health = response.json()
        self.assertEqual(health["system"], "shop")
        self.assertEqual(health["counts"], {"pending": 1})
        self.assertGreaterEqual(health["oldest_pending_age_s"], 0)
        self.assertIsNone(health["last_error"])
        self.assertEqual(self.url_open("/sync/shop/health").status_code, 401)

    def test_a_deletion_spares_a_record_that_only_looks_like_the_senders(self):
        # a record of this database, never received from the shop, with the primary values of the deletion
        own = self.env["res.partner"].create({"name": "Ours", "ref": "N1"})
        deletion = envelope_lib.build(self.message_type, "delete", "shop", [], "res.partner", 4242, {"ref": "N1"})
        response = self.post("/sync/shop/messages", deletion)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["status"], "done", "nothing to do, as for a record already gone")
        self.assertTrue(own.active, "never archived nor deleted: it is not the shop's")
        # bound to another system only: not the shop's either
        self.env["sync.binding"]._bind(self.erp, own, "res.partner", "4243")
        again = envelope_lib.build(self.message_type, "delete", "shop", [], "res.partner", 4243, {"ref": "N1"})
        self.assertEqual(self.post("/sync/shop/messages", again).json()["status"], "done")
        self.assertTrue(own.active)
        self.assertEqual(self.post("/sync/shop/messages", deletion).json()["status"], "done", "a replay too")

    # ------------------------------------------------------------------
    def test_a_reference_not_here_yet_is_transient_and_applied_once_it_is(self):
        countries = self.env["sync.data.type"].create({
            "name": "Countries", "library_id": self.library.id, "model_id": self.env["ir.model"]._get("res.country").id,
            "trigger": "manual",
            "line_ids": [(0, 0, {"line_type": "field", "value": "code", "name": "code", "primary": True})],
        })
        self.contact_type.write({"line_ids": [(0, 0, {"line_type": "reference", "value": "country_id",
                                                       "name": "country_id", "reference_id": countries.id})]})
        self.contact_type.action_generate_schema()
        envelope = self.envelope("REF-WAIT", country_id={"code": "QZ"})
        response = self.post("/sync/shop/messages", envelope)
        self.assertEqual(response.status_code, 503, response.text)
        answer = response.json()
        self.assertEqual((answer["status"], answer["permanent"]), ("error", False))
        self.assertIn('{"code": "QZ"}', answer["reason"])
        self.assertIn("res.country", answer["reason"])
        received = self.env["sync.inbound.message"].search([("message_uuid", "=", envelope["id"])])
        self.assertEqual((received.state, received.http_status), ("retry", 503))
        self.assertFalse(self.partners("REF-WAIT"))
        # in a batch too: an answer the sender retries
        other = self.envelope("REF-WAIT-2", country_id={"code": "QZ"})
        [item] = self.post("/sync/shop/messages", [other]).json()
        self.assertEqual((item["status"], item["permanent"]), ("error", False))
        # the country arrives: the same envelope, sent again, is applied
        country = self.env["res.country"].create({"name": "Queueland", "code": "QZ"})
        response = self.post("/sync/shop/messages", envelope)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(self.partners("REF-WAIT").country_id, country)
        # a document that breaks the schema stays refused for good
        bad = self.envelope("REF-BAD", country_id={"code": "QZ"}, email=42)
        response = self.post("/sync/shop/messages", bad)
        self.assertEqual((response.status_code, response.json()["permanent"]), (422, True))

    def test_accept_inbound_is_checked_whichever_way_two_data_types_meet(self):
        """Creating, enabling, accepting, adding a system, changing the schema or the library: each is refused
        naming both data types; sharing the schema is fine as long as one only accepts."""
        def refused(data_type, vals):
            with self.assertRaises(ValidationError) as caught:
                data_type.write(vals)
            self.assertIn("Contacts", str(caught.exception))
            self.assertIn(data_type.name, str(caught.exception))
            self.assertIn("only one may", str(caught.exception))

        sender = self.contact_type.copy({"name": "Contacts sent", "accept_inbound": False})
        self.assertEqual(sender.message_type, self.contact_type.message_type)
        refused(sender, {"accept_inbound": True})
        disabled = self.contact_type.copy({"name": "Contacts disabled", "enabled": False})
        refused(disabled, {"enabled": True})
        elsewhere = self.contact_type.copy({"name": "Contacts elsewhere", "system_ids": [(6, 0, [])]})
        refused(elsewhere, {"system_ids": [(4, self.shop.id)]})
        schema = self.env["sync.schema"].create({"library_id": self.library.id, "name": "Other", "slug": "other"})
        own_schema = self.contact_type.copy({"name": "Contacts of their own", "schema_id": schema.id})
        self.assertNotEqual(own_schema.message_type, self.contact_type.message_type)
        refused(own_schema, {"schema_id": self.contact_type.schema_id.id})
        library = self.env["sync.library"].create({"name": "Elsewhere", "slug": "elsewhere"})
        other_schema = self.env["sync.schema"].create({"library_id": library.id, "name": "C", "slug": "c"})
        moved = self.contact_type.copy({"name": "Contacts moved", "library_id": library.id,
                                        "schema_id": other_schema.id})
        refused(moved, {"library_id": self.library.id, "schema_id": self.contact_type.schema_id.id})
        # without a schema there is no message type, hence nothing received: no conflict between those
        no_schema = self.contact_type.copy({"name": "No schema", "schema_id": False})
        self.assertFalse(no_schema.message_type)
        self.contact_type.copy({"name": "No schema either", "schema_id": False})

    def test_odd_ids_through_the_endpoint(self):
        """Envelope ids in odd forms are refused (422, key 'id') with nothing applied nor kept; a canonical
        id in either case is applied once."""
        before = self.counts()
        for index, spell in enumerate((
            lambda u: "{" + u + "}", lambda u: "urn:uuid:" + u, lambda u: u + "\n", lambda u: " " + u,
            lambda u: u.replace("-", ""), lambda u: u.replace("1", "\uff11").replace("2", "\u0662"),
            lambda u: u.replace("-", "\u2010"), lambda u: u[:-1], lambda u: u + "0", lambda u: 12345,
        )):
            envelope = self.envelope(f"ODD{index}")
            canonical = str(uuid.UUID(envelope["id"]))
            if "1" not in canonical:
                canonical = canonical[:-1] + "1"
                envelope["id"] = canonical
            envelope["id"] = spell(canonical)
            response = self.post("/sync/shop/messages", envelope)
            self.assertEqual(response.status_code, 422, (index, response.text))
            reason = response.json()["reason"]
            self.assertTrue(reason.startswith("envelope key 'id': "), reason)
            self.assertTrue(reason.endswith(("is not a UUID", "is not in canonical UUID form",
                                             "must be a UUID string, got int")), reason)
            self.assertFalse(self.partners(f"ODD{index}"))
        self.assertEqual(self.counts(), before)
        upper = self.envelope("ODDUP")
        upper["id"] = upper["id"].upper()
        response = self.post("/sync/shop/messages", upper)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["message_id"], upper["id"].lower())
        self.assertEqual(len(self.partners("ODDUP")), 1)
        again = self.post("/sync/shop/messages", dict(upper, id=upper["id"].lower()))
        self.assertEqual(again.json()["status"], "done")
        self.assertEqual(len(self.partners("ODDUP")), 1)

