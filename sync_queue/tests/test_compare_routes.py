"""The receiving side of a comparison over real HTTP: /sync/<code>/digest and /sync/<code>/documents."""

import json

from odoo.tests import HttpCase, tagged

from odoo.addons.sync_base import compat
from odoo.addons.sync_base.tests import series

from ..lib import compare


@tagged("post_install", "-at_install")
class TestCompareRoutes(series.AllowAllRequests, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.inbound_user = cls.env["res.users"].create({
            "name": "Shop connector", "login": "cmp_shop_connector",
            compat.GROUP_IDS: [(6, 0, [cls.env.ref("base.group_user").id,
                                       cls.env.ref("base.group_partner_manager").id])],
        })
        cls.shop = cls.env["sync.system"].create({"name": "Shop", "code": "shop", "transport": "test",
                                                  "user_id": cls.inbound_user.id})
        cls.token = cls.shop._generate_inbound_token()
        library = cls.env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
        cls.contact_type = cls.env["sync.data.type"].create({
            "name": "Contacts", "library_id": library.id, "model_id": cls.env["ir.model"]._get("res.partner").id,
            "system_ids": [(6, 0, cls.shop.ids)], "accept_inbound": True, "trigger": "manual",
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                         (0, 0, {"line_type": "field", "value": "email", "name": "email"}),
                         (0, 0, {"line_type": "default", "value": "{name}!", "name": "shout"})],
        })
        cls.contact_type.action_generate_schema()
        cls.ada, cls.bob, cls.hidden = cls.env["res.partner"].create([
            {"name": "Ada", "email": "ada@example.com"}, {"name": "Bob", "email": "bob@example.com"},
            {"name": "Hidden", "company_id": cls.env["res.company"].create({"name": "Not the connector's"}).id},
        ])
        for source_id, partner in ((11, cls.ada), (12, cls.bob), (13, cls.hidden)):
            cls.env["sync.binding"].create({"system_id": cls.shop.id, "model": "res.partner", "res_id": partner.id,
                                            "remote_model": "res.partner",
                                            "remote_ref": f"shop/res.partner/{source_id}"})

    def post(self, route, body, token=None):
        response = self.url_open(f"/sync/shop/{route}", data=json.dumps(body).encode(), headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {token or self.token}"})
        return response.status_code, response.json()

    def ask(self, ids, properties=("name", "email", "phone"), route="digest"):
        return self.post(route, {"type": self.contact_type.message_type, "model": "res.partner", "ids": ids,
                                 "properties": list(properties)})

    def test_digests_of_the_bound_records_over_the_properties_both_sides_have(self):
        status, answer = self.ask([11, 12, 13, 14])
        self.assertEqual(status, 200, answer)
        # a default line is not written by an incoming document: it is nothing to compare
        self.assertEqual(answer["properties"], ["email", "name"])
        rows = {row["id"]: row for row in answer["records"]}
        self.assertEqual(rows[11], {"id": 11, "remote_ref": str(self.ada.id),
                                    "digest": compare.digest({"name": "Ada", "email": "ada@example.com"})})
        self.assertEqual(rows[12]["remote_ref"], str(self.bob.id))
        # not bound, and bound to a record its inbound user may not read: the same answer
        self.assertEqual(rows[13], {"id": 13, "digest": None})
        self.assertEqual(rows[14], {"id": 14, "digest": None})
        status, answer = self.ask([11, 13], route="documents")
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["records"], [
            {"id": 11, "remote_ref": str(self.ada.id), "document": {"name": "Ada", "email": "ada@example.com"}},
            {"id": 13, "document": None}])

    def test_listing_pages_through_the_ids_held(self):
        body = {"type": self.contact_type.message_type, "model": "res.partner", "after": 0, "limit": 1}
        status, answer = self.post("digest", body)
        self.assertEqual((status, answer), (200, {"records": [{"id": 11, "remote_ref": str(self.ada.id)}],
                                                  "next": 11}))
        status, answer = self.post("digest", dict(body, after=11, limit=5))
        # 13 is bound to what the inbound user may not read: not listed
        self.assertEqual(answer, {"records": [{"id": 12, "remote_ref": str(self.bob.id)}], "next": None})

    def test_refusals_say_what_is_wrong(self):
        status, answer = self.post("digest", {"type": self.contact_type.message_type, "model": "res.partner",
                                              "ids": ["11"]})
        self.assertEqual((status, answer["error"]["code"]), (400, "bad_request"))
        self.assertIn("'ids'", answer["error"]["message"])
        status, answer = self.post("digest", {"type": "contacts.nothing", "model": "res.partner", "ids": [1]})
        self.assertEqual((status, answer["error"]["code"]), (404, "unknown_type"))
        self.assertIn("contacts.nothing", answer["error"]["message"])
        status, answer = self.post("digest", {"type": self.contact_type.message_type, "model": "res.partner",
                                              "ids": [11]}, token="not-the-token")
        self.assertEqual((status, answer["error"]["code"]), (401, "unauthorized"))
        response = self.url_open("/sync/shop/digest", headers={"Authorization": f"Bearer {self.token}"})
        self.assertEqual(response.status_code, 405)

    def test_the_sender_side_compares_through_the_routes(self):
        def post(route, body):
            return self.post(route, body)[1]

        self.bob.email = "bob@elsewhere.example"
        results = compare.compare_by_digest(post, self.contact_type.message_type, "res.partner", {
            11: {"name": "Ada", "email": "ada@example.com", "only_here": 1},
            12: {"name": "Bob", "email": "bob@example.com"},
            14: {"name": "Nobody"},
            13: None,
        })
        self.assertEqual(results[11], (True, str(self.ada.id), []))
        self.assertEqual(results[12], (True, str(self.bob.id), [
            {"property": "email", "here": "bob@example.com", "there": "bob@elsewhere.example"}]))
        self.assertEqual(results[14], (False, None, None))
        self.assertEqual(results[13], (False, None, None))

    def test_a_broker_asks_about_the_records_of_its_relay_sources_only(self):
        self.shop.relay_sources = "shop_eu"
        cy = self.env["res.partner"].create({"name": "Cy"})
        self.env["sync.binding"].create({"system_id": self.shop.id, "model": "res.partner", "res_id": cy.id,
                                         "remote_model": "res.partner", "remote_ref": "shop_eu/res.partner/21"})
        body = {"type": self.contact_type.message_type, "model": "res.partner", "ids": [21, 11]}
        status, answer = self.post("digest", dict(body, source="shop_eu"))
        self.assertEqual(status, 200, answer)
        self.assertEqual([(row["id"], row.get("remote_ref")) for row in answer["records"]],
                         [(21, str(cy.id)), (11, None)])
        status, answer = self.post("digest", dict(body, source="shop_us"))
        self.assertEqual((status, answer["error"]["code"]), (400, "bad_request"))
        self.assertIn("relay sources", answer["error"]["message"])

    def test_what_a_document_embeds_is_bounded_by_the_inbound_user(self):
        other_company = self.hidden.company_id
        child_type = self.env["sync.data.type"].create({
            "name": "Child", "library_id": self.contact_type.library_id.id,
            "model_id": self.env["ir.model"]._get("res.partner").id, "trigger": "manual",
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                         (0, 0, {"line_type": "field", "value": "email", "name": "email"})],
        })
        child_type.action_generate_schema()
        self.contact_type.write({"line_ids": [(0, 0, {"line_type": "model", "value": "child_ids",
                                                      "name": "contacts", "reference_id": child_type.id})]})
        self.contact_type.action_generate_schema()
        self.env["res.partner"].create({"name": "Secret child", "email": "secret@hidden.example", "type": "other",
                                        "parent_id": self.ada.id, "company_id": other_company.id})
        for route in ("digest", "documents"):
            status, answer = self.ask([11, 12], properties=["name", "email", "contacts"], route=route)
            self.assertEqual(status, 200, answer)
            self.assertNotIn("secret", json.dumps(answer).lower())
            rows = {row["id"]: row for row in answer["records"]}
            self.assertIn("cannot build its document", rows[11]["error"])
            self.assertIsNone(rows[11]["digest" if route == "digest" else "document"])
            self.assertTrue(rows[12]["digest" if route == "digest" else "document"])
