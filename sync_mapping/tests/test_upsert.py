import copy

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from odoo.addons.sync_base import compat

from ..models.sync_data_type import SyncMappingError, SyncUnresolvedReference
from .common import MappingCase


@tagged("post_install", "-at_install")
class TestUpsert(MappingCase):
    def _renamed(self, document, suffix):
        renamed = copy.deepcopy(document)
        renamed["name"] += suffix
        for contact in renamed["contacts"]:
            contact["name"] += suffix
        return renamed

    def test_round_trip_under_other_names(self):
        self.env["res.partner"].create(
            {"name": "Second Contact", "parent_id": self.company.id, "email": "second@example.com"}
        )
        [document] = self.company_type._serialize(self.company)
        copy_doc = self._renamed(document, " (copy)")
        [created] = self.company_type._upsert([copy_doc])
        self.assertNotEqual(created, self.company)
        self.assertEqual(created.name, "Azure Interior (copy)")
        self.assertEqual(created.country_id, self.belgium)
        self.assertEqual(created.category_id, self.vip)
        self.assertEqual(sorted(created.child_ids.mapped("name")),
                         ["Brandon Freeman (copy)", "Second Contact (copy)"])
        [again] = self.company_type._serialize(created)
        self.assertEqual(self._renamed(document, " (copy)")["contacts"], again["contacts"])
        self.assertEqual({**again, "label": None, "shout": None}, {**copy_doc, "label": None, "shout": None})

        # upserting the same document again changes nothing
        self.env.flush_all()
        partner_count = self.env["res.partner"].search_count([])
        stamps = {p.id: p.write_date for p in created | created.child_ids}
        [same] = self.company_type._upsert([copy_doc])
        self.env.flush_all()
        self.assertEqual(same, created)
        self.assertEqual(self.env["res.partner"].search_count([]), partner_count)
        self.assertEqual({p.id: p.write_date for p in created | created.child_ids}, stamps)

    def test_children_are_updated_created_and_removed(self):
        [document] = self.company_type._serialize(self.company)
        doc = self._renamed(document, " 2")
        [created] = self.company_type._upsert([doc])
        brandon = created.child_ids
        doc["contacts"][0]["email"] = "new@example.com"
        doc["contacts"].append({"name": "Newcomer 2", "email": None, "is_company": False, "country": None,
                                "categories": []})
        self.company_type._upsert([doc])
        self.assertEqual(brandon.email, "new@example.com")
        self.assertEqual(sorted(created.child_ids.mapped("name")), ["Brandon Freeman 2", "Newcomer 2"])
        doc["contacts"] = doc["contacts"][1:]
        self.company_type._upsert([doc])
        self.assertEqual(created.child_ids.mapped("name"), ["Newcomer 2"])
        self.assertFalse(brandon.exists() and brandon.parent_id == created)

    def test_binding_matches_and_is_stored(self):
        system = self.env["sync.system"].create({"name": "Shop", "code": "shop"})
        [document] = self.contact_type._serialize(self.contact)
        document["name"] = "Remote Person"
        [record] = self.contact_type._upsert([document], system=system, remote_refs=["shop/res.partner/9"])
        binding = self.env["sync.binding"]._find_local(system, "res.partner", "shop/res.partner/9")
        self.assertEqual(binding.res_id, record.id)
        # renamed remotely: the binding, not the primary name, finds the record
        document["name"] = "Renamed Person"
        [again] = self.contact_type._upsert([document], system=system, remote_refs=["shop/res.partner/9"])
        self.assertEqual(again, record)
        self.assertEqual(record.name, "Renamed Person")

    def test_unresolvable_reference_is_a_clear_error(self):
        [document] = self.contact_type._serialize(self.contact)
        document["country"] = {"code": "XX"}
        with self.assertRaisesRegex(SyncMappingError, 'property country: cannot resolve the reference {"code": "XX"}'):
            self.contact_type._upsert([document])

    def test_a_primary_property_named_ref_is_not_taken_for_an_id(self):
        by_ref = self._data_type("Contacts by reference", "res.partner",
                                 [("field", "ref", "ref", {"primary": True}), ("field", "name", "name", {})])
        orders = self._data_type("Tagged", "res.partner.category",
                                 [("field", "name", "name", {"primary": True}),
                                  ("reference", "partner_ids", "partners", {"reference_id": by_ref.id})])
        by_ref.action_generate_schema()
        orders.action_generate_schema()
        self.contact.ref = "CUST-7"
        sent = self.env["res.partner.category"].create({"name": "Referenced",
                                                        "partner_ids": [(6, 0, self.contact.ids)]})
        [document] = orders._serialize(sent)
        self.assertEqual(document["partners"], [{"ref": "CUST-7"}])
        document["name"] = "Received"
        [tag] = orders._upsert([document])
        self.assertNotEqual(tag, sent)
        self.assertEqual(tag.partner_ids, self.contact)
        # a binding's reference is the receiver's id, under a key no property can have: also when another
        # record's customer reference is that number
        look_alike = self.env["res.partner"].create({"name": "Look-alike", "ref": str(self.company.id)})
        [tag] = orders._upsert([{"name": "By id", "partners": [{"$ref": str(self.company.id)}]}])
        self.assertEqual(tag.partner_ids, self.company)
        [tag] = orders._upsert([{"name": "By number", "partners": [{"$ref": self.company.id}]}])
        self.assertEqual(tag.partner_ids, self.company)
        # {"ref": <digits>} is a customer reference: the record that has it, never the record with that id
        [tag] = orders._upsert([{"name": "By value", "partners": [{"ref": str(self.company.id)}]}])
        self.assertEqual(tag.partner_ids, look_alike)
        # and a customer reference not here yet is not here yet, whatever record has that id
        look_alike.ref = "MOVED"
        with self.assertRaises(SyncUnresolvedReference):
            orders._upsert([{"name": "Not yet", "partners": [{"ref": str(self.company.id)}]}])
        with self.assertRaisesRegex(SyncMappingError, 'cannot resolve the reference {"ref": "CUST-404"}'):
            orders._upsert([{"name": "Unknown", "partners": [{"ref": "CUST-404"}]}])
        # no property may be called so
        with self.assertRaisesRegex(ValidationError, "reserved"):
            by_ref.line_ids = [(0, 0, {"line_type": "field", "value": "email", "name": "$ref"})]

    def test_invalid_document_is_refused_with_property(self):
        with self.assertRaisesRegex(SyncMappingError, "property is_company"):
            self.contact_type._upsert([{"name": "X", "is_company": "yes"}])

    def test_runs_with_the_users_rights(self):
        [document] = self.contact_type._serialize(self.contact)
        document["name"] = "Created by portal"
        portal = self.env["res.users"].create(
            {"name": "Portal", "login": "portal_map", compat.GROUP_IDS: [(6, 0, self.env.ref("base.group_portal").ids)]}
        )
        with self.assertRaises(AccessError):
            self.contact_type.with_user(portal)._upsert([document])
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Created by portal")]))
