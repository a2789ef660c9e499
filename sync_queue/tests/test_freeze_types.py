"""Freezing a batch of several data types: each envelope carries its own data type's message type (read once
per data type and system), and a document that does not validate against its schema as it is now fails
alone."""

import json
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.sync_base.lib import envelope as envelope_lib

from .common import CommittedCase, QueueCase


def _env(envelope):
    return envelope if isinstance(envelope, dict) else json.loads(envelope)


@tagged("post_install", "-at_install")
class TestFreezeTypes(QueueCase):

    def _type(self, name, slug=None, schema=True, **vals):
        data_type = self.env["sync.data.type"].create({
            "name": name, "library_id": self.library.id, "model_id": self.env["ir.model"]._get("res.partner").id,
            "system_ids": [(6, 0, self.system.ids)], "sync_deletion": True,
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True}),
                         (0, 0, {"line_type": "field", "value": "email", "name": "email"})],
            **vals,
        })
        if schema:
            data_type.action_generate_schema()
            if slug:
                data_type.schema_id.slug = slug
        return data_type

    def test_several_data_types_one_batch_each_envelope_its_own_type(self):
        second = self._type("Second", slug="second")
        third = self._type("Third", slug="third")
        self.assertEqual(len({self.contact_type.message_type, second.message_type, third.message_type}), 3)
        partners = self.env["res.partner"].create([{"name": f"T{i}", "email": f"t{i}@example.com"}
                                                   for i in range(6)])
        self.env["sync.message"].search([]).unlink()
        types = [self.contact_type, second, third]
        messages = self.env["sync.message"]
        for index, partner in enumerate(partners):
            for offset in range(3):
                messages |= self._message(partner.id, data_type=types[(index + offset) % 3])
        gone = self.env["res.partner"].create({"name": "Deleted one"})
        deletion = self._message(gone.id, operation="delete", data_type=third, deletion_info={"name": "Deleted one"})
        ids = (messages | deletion).ids
        ids = ids[::2] + ids[1::2]
        claimed = self._freeze_claimed(ids)
        self.env.invalidate_all()
        self.assertEqual(sorted(c[0] for c in claimed), sorted(ids))
        for message_id, envelope in claimed:
            envelope = envelope if isinstance(envelope, dict) else json.loads(envelope)
            message = self.env["sync.message"].browse(message_id)
            self.assertEqual(envelope["type"], message.data_type_id.message_type, message.data_type_id.name)
            self.assertEqual(envelope["id"], message.uuid)
            self.assertEqual(envelope["record"]["id"], message.res_id)

    def test_data_type_without_message_type_and_another_in_one_batch(self):
        """A data type whose schema was removed while its messages were queued: no message type; its upserts
        fail with the reason, its deletion carries the model's name as type; the other data type goes with its
        own."""
        second = self._type("Second", slug="second")
        partners = self.env["res.partner"].create([{"name": f"N{i}", "email": f"n{i}@example.com"}
                                                   for i in range(3)])
        self.env["sync.message"].search([]).unlink()
        upserts = self.env["sync.message"]
        for partner in partners:
            upserts |= self._message(partner.id)
        others = self.env["sync.message"]
        for partner in partners:
            others |= self._message(partner.id, data_type=second)
        deletion = self._message(999999, operation="delete", deletion_info={"name": "Gone"})
        self.contact_type.schema_id = False
        self.assertFalse(self.contact_type.message_type)
        ids = [m.id for pair in zip(upserts, others, strict=True) for m in pair] + deletion.ids
        claimed = dict(self._freeze_claimed(ids))
        self.env.invalidate_all()
        self.assertEqual(set(claimed), set(others.ids) | set(deletion.ids))
        for message in upserts:
            self.assertEqual(message.state, "failed")
            self.assertIn("has no schema", message.last_error)
        for message in others:
            self.assertEqual(_env(claimed[message.id])["type"], second.message_type)
        self.assertEqual(_env(claimed[deletion.id])["type"], "res_partner")

    def test_schema_tightened_after_queue_each_failure_alone(self):
        second = self._type("Second", slug="second")
        partners = self.env["res.partner"].create([
            {"name": "Good", "email": "g@example.com"},
            {"name": "Bad email", "email": "b@elsewhere.org"},
            {"name": "A name far too long", "email": "l@example.com"},
            {"name": "Fine", "email": "f@example.com"},
        ])
        self.env["sync.message"].search([]).unlink()
        mine = self.env["sync.message"]
        for partner in partners:
            mine |= self._message(partner.id)
        theirs = self.env["sync.message"]
        for partner in partners:
            theirs |= self._message(partner.id, data_type=second)
        schema = json.loads(self.contact_type.schema_id.schema)
        schema["properties"]["email"]["pattern"] = "@example\\.com$"
        schema["properties"]["name"]["maxLength"] = 12
        self.contact_type.schema_id.schema = json.dumps(schema)
        claimed = dict(self._freeze_claimed((mine | theirs).ids))
        self.env.invalidate_all()
        self.assertEqual(set(claimed), {mine[0].id, mine[3].id} | set(theirs.ids))
        bad_email, bad_name = mine[1], mine[2]
        self.assertIn(f"res.partner,{partners[1].id}", bad_email.last_error)
        self.assertIn("property email", bad_email.last_error)
        self.assertNotIn("property name", bad_email.last_error)
        self.assertIn(f"res.partner,{partners[2].id}", bad_name.last_error)
        self.assertIn("property name", bad_name.last_error)
        self.assertNotIn("property email", bad_name.last_error)
        for message in theirs:
            envelope = _env(claimed[message.id])
            self.assertEqual(envelope["type"], second.message_type)
            self.assertEqual(envelope["payload"]["name"], self.env["res.partner"].browse(message.res_id).name)

    def test_message_type_changed_between_two_batches(self):
        partners = self.env["res.partner"].create([{"name": "B1"}, {"name": "B2"}])
        self.env["sync.message"].search([]).unlink()
        first = self._message(partners[0].id)
        claimed = dict(self._freeze_claimed(first.ids))
        old_type = self.contact_type.message_type
        self.contact_type.schema_id.slug = "renamed"
        self.assertNotEqual(self.contact_type.message_type, old_type)
        second = self._message(partners[1].id)
        claimed2 = dict(self._freeze_claimed(second.ids))
        self.assertEqual(_env(claimed[first.id])["type"], old_type)
        self.assertEqual(_env(claimed2[second.id])["type"], "contacts.renamed")

    def test_manager_owned_data_type_hidden_record_fails_alone(self):
        """A data type owned by a Synchronization manager who may not read one record: that record fails with
        the hidden error, never validated nor sent; the others go."""
        from odoo.addons.mail.tests.common import mail_new_test_user
        manager = mail_new_test_user(self.env, login="ft_manager", groups="sync_base.group_sync_manager")
        other_company = self.env["res.company"].create({"name": "FT Elsewhere"})
        partners = self.env["res.partner"].create([
            {"name": "Visible", "email": "v@example.com"},
            {"name": "Hidden", "email": "h@example.com", "company_id": other_company.id},
        ])
        self.env["sync.message"].search([]).unlink()
        messages = self._message(partners[0].id) | self._message(partners[1].id)
        self.system.company_id = False  # else the other company's record is dropped as "left the company"
        self.contact_type.sudo().owner_id = manager
        self.env.flush_all()
        claimed = dict(self._freeze_claimed(messages.ids))
        self.env.invalidate_all()
        self.assertEqual(set(claimed), set(messages[:1].ids))
        self.assertEqual(messages[1].state, "failed")
        self.assertIn(f"res.partner,{partners[1].id}", messages[1].last_error)
        self.assertNotIn("Hidden", messages[1].last_error)


class TestFreezeTypesRealCursors(CommittedCase):
    """The schema tightened and committed by another transaction while the send's serialization runs."""

    PARTNERS = ("Schema racer 0", "Schema racer 1", "Schema racer 2")

    def test_schema_edited_during_serialization(self):
        DataType = type(self.env["sync.data.type"])
        original = DataType._serialize_batch
        done = []

        def racing(data_type, records, system, stack):
            result = original(data_type, records, system, stack)
            if not done:
                done.append(True)

                def tighten(env):
                    dt = env["sync.data.type"].search([("system_ids", "in", [self.system_id])])
                    schema = json.loads(dt.schema_id.schema)
                    schema["properties"]["name"]["maxLength"] = 3
                    dt.schema_id.schema = json.dumps(schema)
                self.run_in_cursor(tighten)
            return result

        with patch.object(DataType, "_serialize_batch", racing):
            self.run_in_cursor(lambda env: env["sync.message"]._cron_send())
        # the race took place: the tighter schema was committed while the batch was being built
        self.assertTrue(done)
        self.assertIn("maxLength", self.run_in_cursor(
            lambda env: env["sync.data.type"].search([("system_ids", "in", [self.system_id])]).schema_id.schema))

        def read(env):
            messages = env["sync.message"].search([("system_id", "=", self.system_id)], order="id")
            return [(m.state, m.envelope and envelope_lib.parse(m.envelope)["payload"]["name"]) for m in messages]

        rows = self.run_in_cursor(read)
        self.assertEqual(len(rows), 3)
        # built and validated in one snapshot: all with the schema of the build, none lost, none twice
        self.assertEqual({state for state, _n in rows}, {"done"}, rows)
        # next run, the tightened schema: a new change of each record now fails alone, with the property
        def rename(env):
            # the data type maps the name only: a change of another field queues nothing
            for partner in env["res.partner"].browse(self.partner_ids):
                partner.name = f"{partner.name} again"
        self.run_in_cursor(rename)
        self.run_in_cursor(lambda env: env["sync.message"]._cron_create_queue())
        self.run_in_cursor(lambda env: env["sync.message"]._cron_send())

        def failed(env):
            messages = env["sync.message"].search([("system_id", "=", self.system_id), ("state", "!=", "done")])
            return [(m.state, m.last_error) for m in messages]
        rows = self.run_in_cursor(failed)
        self.assertEqual(len(rows), 3, rows)
        for state, error in rows:
            self.assertEqual(state, "failed")
            self.assertIn("property name", error)
