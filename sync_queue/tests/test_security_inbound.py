"""The inbound user over real HTTP: record rules decide what a document may reach, and nothing more is needed.

Two companies; the calling system belongs to company A, its inbound user to
company A only, with the rights on partners and no Synchronization group.  A
partner of company B is hidden from it by the multi-company rule: every way a
document may name that partner is answered exactly as a name of no record.
"""

import json

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from odoo.addons.sync_base import compat
from odoo.addons.sync_base.lib import envelope as envelope_lib
from odoo.addons.sync_base.tests import series


@tagged("post_install", "-at_install")
class TestSecurityInbound(series.AllowAllRequests, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company_a = cls.env["res.company"].create({"name": "Inbound A"})
        cls.company_b = cls.env["res.company"].create({"name": "Inbound B"})
        cls.inbound_user = cls.env["res.users"].create({
            "name": "Company A connector", "login": "sec_inbound_a",
            "company_id": cls.company_a.id, "company_ids": [(6, 0, cls.company_a.ids)],
            compat.GROUP_IDS: [(6, 0, [cls.env.ref("base.group_user").id,
                                  cls.env.ref("base.group_partner_manager").id])],
        })
        cls.system = cls.env["sync.system"].create({
            "name": "Shop A", "code": "sec_shop", "transport": "test", "company_id": cls.company_a.id,
            "user_id": cls.inbound_user.id,
        })
        cls.token = cls.system._generate_inbound_token()
        # a partner of company B, which the multi-company rule hides from the inbound user
        cls.hidden = cls.env["res.partner"].create({
            "name": "Secret B Partner", "email": "secret@b.example.com", "ref": "B-SECRET",
            "street": "1 Hidden Street", "company_id": cls.company_b.id,
        })
        library = cls.env["sync.library"].create({"name": "Security", "slug": "security"})
        partner_model = cls.env["ir.model"]._get("res.partner").id
        # how a reference or an embedded partner is matched: by its e-mail
        cls.key_type = cls.env["sync.data.type"].create({
            "name": "Partner keys", "library_id": library.id, "model_id": partner_model, "trigger": "manual",
            "line_ids": [(0, 0, {"line_type": "field", "value": "email", "name": "email", "primary": True}),
                         (0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                         (0, 0, {"line_type": "field", "value": "street", "name": "street"})],
        })

        def inbound_type(name, lines):
            data_type = cls.env["sync.data.type"].create({
                "name": name, "library_id": library.id, "model_id": partner_model, "trigger": "manual",
                "system_ids": [(6, 0, cls.system.ids)], "accept_inbound": True, "delete_mode": "unlink",
                "line_ids": [(0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True}),
                             (0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                             *[(0, 0, line) for line in lines]],
            })
            data_type.action_generate_schema()
            return data_type

        cls.referencing = inbound_type("Referencing partners", [
            {"line_type": "reference", "value": "parent_id", "name": "parent", "reference_id": cls.key_type.id}])
        cls.embedding = inbound_type("Embedding partners", [
            {"line_type": "model", "value": "parent_id", "name": "parent", "reference_id": cls.key_type.id}])
        cls.raw = inbound_type("Partners by raw id", [
            {"line_type": "field", "value": "parent_id", "name": "parent"}])
        cls.hidden_state = cls.hidden.read(["name", "email", "street", "ref", "company_id", "parent_id"])
        cls.missing_id = cls.env["res.partner"].with_context(active_test=False).search(
            [], order="id desc", limit=1).id + 1000

    # ------------------------------------------------------------------
    def post(self, data_type, payload, operation="upsert", record_id=1):
        envelope = envelope_lib.build(data_type.message_type, operation, "sec_shop", ["main"], "res.partner",
                                      record_id, payload)
        response = self.url_open("/sync/sec_shop/messages", data=json.dumps(envelope),
                                 headers={"Authorization": "Bearer " + self.token,
                                          "Content-Type": "application/json"})
        return response

    def answer(self, data_type, payload, **kwargs):
        response = self.post(data_type, payload, **kwargs)
        body = response.json()
        return response.status_code, body["status"], body["permanent"], body["reason"]

    def partners(self, ref):
        return self.env["res.partner"].with_context(active_test=False).search([("ref", "=", ref)])

    def assertHiddenUntouched(self):
        self.env.invalidate_all()
        self.assertEqual(self.hidden.read(["name", "email", "street", "ref", "company_id", "parent_id"]),
                         self.hidden_state)
        self.assertFalse(self.env["res.partner"].search([("parent_id", "=", self.hidden.id)]),
                         "nothing is linked to the other company's partner")

    def assertSameAnswer(self, hidden_answer, missing_answer, hidden_value, missing_value):
        """Same status, same permanence, same reason but for the value naming the record."""
        self.assertEqual(hidden_answer[:3], (503, "error", False), hidden_answer)
        self.assertEqual(missing_answer[:3], hidden_answer[:3])
        self.assertEqual(hidden_answer[3].replace(str(hidden_value), "<value>"),
                         missing_answer[3].replace(str(missing_value), "<value>"))

    # ------------------------------------------------------------------
    def test_a_reference_by_id_to_a_hidden_record_is_a_missing_record(self):
        """``{"$ref": id}`` and the legacy ``{"ref": id}``: 503, not 200, and nothing of the partner copied."""
        for key in ("$ref", "ref"):
            hidden = self.answer(self.referencing, {"ref": f"BY-{key}", "name": "Child",
                                                    "parent": {key: self.hidden.id}}, record_id=11)
            missing = self.answer(self.referencing, {"ref": f"BY-{key}-2", "name": "Child",
                                                     "parent": {key: self.missing_id}}, record_id=12)
            self.assertSameAnswer(hidden, missing, self.hidden.id, self.missing_id)
            self.assertIn(f'"{key}"', hidden[3])
            self.assertFalse(self.partners(f"BY-{key}") | self.partners(f"BY-{key}-2"))
        # as a string, and as a number no record can have: the same answer, never a database error
        for value in (str(self.hidden.id), 2**40):
            status = self.answer(self.referencing, {"ref": "BY-ODD", "name": "Child", "parent": {"$ref": value}},
                                 record_id=13)
            self.assertEqual(status[:3], (503, "error", False), status)
        self.assertHiddenUntouched()

    def test_a_reference_by_values_or_name_to_a_hidden_record_is_a_missing_record(self):
        hidden = self.answer(self.referencing, {"ref": "BY-EMAIL", "name": "Child",
                                                "parent": {"email": self.hidden.email}}, record_id=21)
        missing = self.answer(self.referencing, {"ref": "BY-EMAIL-2", "name": "Child",
                                                 "parent": {"email": "nobody@b.example.com"}}, record_id=22)
        self.assertSameAnswer(hidden, missing, self.hidden.email, "nobody@b.example.com")
        hidden = self.answer(self.referencing, {"ref": "BY-NAME", "name": "Child",
                                                "parent": {"name": self.hidden.name}}, record_id=23)
        missing = self.answer(self.referencing, {"ref": "BY-NAME-2", "name": "Child",
                                                 "parent": {"name": "Nobody At All"}}, record_id=24)
        self.assertSameAnswer(hidden, missing, self.hidden.name, "Nobody At All")
        self.assertFalse(self.partners("BY-EMAIL") | self.partners("BY-NAME"))
        self.assertHiddenUntouched()

    def test_a_raw_id_of_a_hidden_record_in_a_field_line_is_a_missing_record(self):
        """A field line on a many2one carries a database id: a reference like the others."""
        hidden = self.answer(self.raw, {"ref": "RAW", "name": "Child", "parent": self.hidden.id}, record_id=31)
        missing = self.answer(self.raw, {"ref": "RAW-2", "name": "Child", "parent": self.missing_id}, record_id=32)
        self.assertSameAnswer(hidden, missing, self.hidden.id, self.missing_id)
        self.assertFalse(self.partners("RAW") | self.partners("RAW-2"))
        self.assertHiddenUntouched()

    def test_an_embedded_document_never_matches_a_hidden_record(self):
        """A model line matching the hidden partner by its primary values creates a partner of its own, as for
        values nobody has; the hidden partner is neither linked nor overwritten."""
        hidden = self.answer(self.embedding, {
            "ref": "EMB", "name": "Child",
            "parent": {"email": self.hidden.email, "name": "Overwritten?", "street": "Somewhere"},
        }, record_id=41)
        missing = self.answer(self.embedding, {
            "ref": "EMB-2", "name": "Child",
            "parent": {"email": "nobody@b.example.com", "name": "Overwritten?", "street": "Somewhere"},
        }, record_id=42)
        self.assertEqual(hidden, missing)
        self.assertEqual(hidden[:3], (200, "done", False))
        child = self.partners("EMB")
        self.assertEqual(len(child), 1)
        self.assertNotEqual(child.parent_id, self.hidden)
        self.assertEqual((child.parent_id.name, child.parent_id.street, child.parent_id.email),
                         ("Overwritten?", "Somewhere", self.hidden.email), "the document's values, not B's")
        self.assertNotEqual(child.parent_id.company_id, self.company_b)
        self.assertHiddenUntouched()

    def test_the_inbound_user_needs_no_synchronization_right(self):
        """It reads neither the configuration nor the queue, and its documents apply."""
        user_env = self.env(user=self.inbound_user)
        with self.assertRaises(AccessError):
            user_env["sync.data.type"].browse(self.referencing.id).read(["line_ids"])
        with self.assertRaises(AccessError):
            user_env["sync.mapping.line"].search([])
        with self.assertRaises(AccessError):
            user_env["sync.message"].search([])
        with self.assertRaises(AccessError):
            user_env["sync.inbound.message"].search([])
        visible = self.env["res.partner"].create({"name": "Visible A", "email": "visible@a.example.com",
                                                  "company_id": self.company_a.id})
        for record_id, data_type, parent in ((51, self.referencing, {"email": visible.email}),
                                             (52, self.referencing, {"$ref": visible.id}),
                                             (53, self.raw, visible.id)):
            ref = f"OK-{record_id}"
            response = self.post(data_type, {"ref": ref, "name": "Applied", "parent": parent}, record_id=record_id)
            self.assertEqual(response.status_code, 200, response.text)
            self.assertEqual(self.partners(ref).parent_id, visible)
            self.assertEqual(self.partners(ref).create_uid, self.inbound_user, "applied as the inbound user")

    def test_a_bound_record_moved_out_of_reach_is_neither_overwritten_nor_duplicated(self):
        """The record a binding names went to company B: an update waits (503), a deletion too, and neither
        writes, duplicates, deletes nor unbinds it."""
        response = self.post(self.referencing, {"ref": "MOVED", "name": "Mine"}, record_id=61)
        self.assertEqual(response.status_code, 200, response.text)
        record = self.partners("MOVED")
        record.company_id = self.company_b
        update = self.answer(self.referencing, {"ref": "MOVED", "name": "Renamed"}, record_id=61)
        self.assertEqual(update[:3], (503, "error", False), update)
        self.env.invalidate_all()
        self.assertEqual(self.partners("MOVED"), record, "no duplicate")
        self.assertEqual(record.name, "Mine")
        deletion = self.answer(self.referencing, {"ref": "MOVED"}, operation="delete", record_id=61)
        self.assertEqual(deletion[:3], (503, "error", False), deletion)
        self.env.invalidate_all()
        self.assertTrue(record.exists())
        self.assertTrue(self.env["sync.binding"].search([("system_id", "=", self.system.id),
                                                         ("res_id", "=", record.id)]))
        # back in company A: both apply
        record.company_id = self.company_a
        self.assertEqual(self.answer(self.referencing, {"ref": "MOVED", "name": "Renamed"}, record_id=61)[0], 200)
        self.env.invalidate_all()
        self.assertEqual(record.name, "Renamed")
        self.assertEqual(self.answer(self.referencing, {"ref": "MOVED"}, operation="delete", record_id=61)[0], 200)
        self.env.invalidate_all()
        self.assertFalse(record.exists())

    def test_primary_values_never_update_a_hidden_record(self):
        """A top-level document with the hidden partner's primary values makes a record of company A's own."""
        response = self.post(self.referencing, {"ref": self.hidden.ref, "name": "Not B's"}, record_id=71)
        self.assertEqual(response.status_code, 200, response.text)
        created = self.partners(self.hidden.ref) - self.hidden
        self.assertEqual(len(created), 1)
        self.assertEqual(created.name, "Not B's")
        self.assertHiddenUntouched()
