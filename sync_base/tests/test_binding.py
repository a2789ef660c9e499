from psycopg2 import IntegrityError

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import SyncCase


@tagged("post_install", "-at_install")
class TestBinding(SyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.system = cls._create_system("shop_eu")
        cls.other_system = cls._create_system("shop_us")
        cls.partner = cls.env["res.partner"].create({"name": "Azure"})
        cls.partner2 = cls.env["res.partner"].create({"name": "Deco"})
        cls.Bindings = cls.env["sync.binding"]

    def _create(self, partner, ref, system=None):
        return self.Bindings.create(
            {
                "system_id": (system or self.system).id,
                "model": "res.partner",
                "res_id": partner.id,
                "remote_model": "res.partner",
                "remote_ref": ref,
            }
        )

    @mute_logger("odoo.sql_db")
    def test_unique_per_local_record(self):
        self._create(self.partner, "10")
        with self.assertRaises(IntegrityError), self.env.cr.savepoint():
            self._create(self.partner, "11")

    @mute_logger("odoo.sql_db")
    def test_unique_per_remote_record(self):
        self._create(self.partner, "10")
        with self.assertRaises(IntegrityError), self.env.cr.savepoint():
            self._create(self.partner2, "10")

    def test_same_refs_on_other_systems_are_fine(self):
        self._create(self.partner, "10")
        other = self._create(self.partner, "10", system=self.other_system)
        self.assertTrue(other)

    def test_bind_updates_and_moves(self):
        binding = self.Bindings._bind(self.system, self.partner, "res.partner", 10)
        self.assertEqual(binding.remote_ref, "10")
        again = self.Bindings._bind(self.system, self.partner, "res.partner", 12)
        self.assertEqual(again, binding)
        self.assertEqual(binding.remote_ref, "12")
        # the remote record 12 now belongs to partner2: the old binding goes
        moved = self.Bindings._bind(self.system, self.partner2, "res.partner", 12)
        self.assertFalse(binding.exists())
        self.assertEqual(self.Bindings._find_local(self.system, "res.partner", "12"), moved)
        self.assertEqual(self.Bindings._find(self.system, "res.partner", [self.partner2.id]), {self.partner2.id: moved})
        self.assertIn("res.partner/12", moved.display_name)

    def test_bind_many_matches_bind(self):
        partner3 = self.env["res.partner"].create({"name": "Third"})
        self.Bindings._bind(self.system, partner3, "res.partner", "30")
        self.Bindings._bind_many(self.system, [
            ("res.partner", self.partner.id, "res.partner", "10"),
            ("res.partner", self.partner2.id, "res.partner", 20),
            ("res.partner", self.partner2.id, "res.partner", "21"),  # the last one wins
            ("res.partner", self.partner.id, "res.partner", "30"),  # moves 30 away from partner3
        ])
        found = self.Bindings._find(self.system, "res.partner", [self.partner.id, self.partner2.id, partner3.id])
        self.assertEqual({k: v.remote_ref for k, v in found.items()},
                         {self.partner.id: "30", self.partner2.id: "21"})
        self.assertEqual(found[self.partner.id].company_id, self.system.company_id)
        self.assertTrue(found[self.partner.id].create_date)

    def test_pages_keep_room_for_the_next_version_of_a_binding(self):
        # a binding sent again changes only when it was synchronized: with room on its page, that update
        # touches none of the table's indexes
        self.env.cr.execute("SELECT reloptions FROM pg_class WHERE relname = 'sync_binding'")
        self.assertIn("fillfactor=80", self.env.cr.fetchone()[0] or [])
