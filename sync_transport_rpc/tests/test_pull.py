from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, tagged

from odoo.addons.sync_base import compat
from odoo.addons.sync_base.tests import series
from odoo.addons.sync_queue.models.base import Origins

from .common import RpcCase


@tagged("post_install", "-at_install")
class TestPull(RpcCase):
    """The pull's bookkeeping; pulling from a real remote Odoo is in tests/e2e/test_rpc.py."""

    system_code = "remote_pull"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.system.user_id = cls.user
        library = cls.env["sync.library"].create({"name": "Pull", "slug": "pull_tests"})
        cls.data_type = cls.env["sync.data.type"].create({
            "name": "Partners", "library_id": library.id, "model_id": cls.env["ir.model"]._get("res.partner").id,
            "system_ids": [(6, 0, cls.system.ids)], "rpc_pull": True,
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                         (0, 0, {"line_type": "field", "value": "ref", "name": "ref", "primary": True})],
        })

    def test_remote_domain_is_checked(self):
        self.data_type.rpc_pull_domain = "[('customer_rank', '>', 0), '|', ('a', '=', 1), ('b', '=', 2)]"
        self.assertEqual(self.data_type._rpc_pull_domain()[0], ["customer_rank", ">", 0])
        for bad in ("{'a': 1}", "[('a', '=')]", "[(", "['name']"):
            with self.assertRaises(ValidationError, msg=bad):
                self.data_type.rpc_pull_domain = bad

    def test_pull_overlap_and_sweep_size_are_checked(self):
        with self.assertRaises(ValidationError):
            self.system.rpc_pull_overlap = -1
        with self.assertRaises(ValidationError):
            self.system.rpc_sweep_size = 0

    def test_a_down_remote_is_kept_on_the_watermark_and_nothing_moves(self):
        applied = self.env["sync.rpc.watermark"]._cron_pull()
        self.assertEqual(applied, 0)
        watermark = self.env["sync.rpc.watermark"].search([("system_id", "=", self.system.id)])
        self.assertEqual(watermark.data_type_id, self.data_type)
        self.assertIn("cannot reach", watermark.last_error)
        self.assertNotIn("s3cret", watermark.last_error)
        self.assertFalse(watermark.cursor_at)
        self.assertFalse(watermark.caught_up)
        # one watermark per system and data type, however often the scheduler runs
        self.env["sync.rpc.watermark"]._cron_pull()
        self.assertEqual(self.env["sync.rpc.watermark"].search_count([("system_id", "=", self.system.id)]), 1)

    def test_only_plain_active_systems_and_enabled_data_types_are_pulled(self):
        self.system.rpc_mode = "suite"
        self.assertFalse(self.env["sync.rpc.watermark"]._pull_pairs().filtered(
            lambda w: w.system_id == self.system))
        self.system.rpc_mode = "plain"
        self.data_type.rpc_pull = False
        self.assertFalse(self.env["sync.rpc.watermark"]._pull_pairs().filtered(
            lambda w: w.system_id == self.system))

    def test_without_a_user_nothing_is_applied(self):
        self.system.user_id = False
        watermark = self.env["sync.rpc.watermark"]._pull_pairs().filtered(lambda w: w.system_id == self.system)
        self.assertEqual(watermark._pull_page(), 0)
        self.assertIn("no user", watermark.last_error)

    def test_actions_are_for_managers(self):
        watermark = self.env["sync.rpc.watermark"]._pull_pairs().filtered(lambda w: w.system_id == self.system)
        watermark.sudo().write({"cursor_at": "2026-01-01 00:00:00", "cursor_id": 7, "caught_up": True})
        with self.assertRaises(AccessError):
            watermark.with_user(self.user).action_pull()
        with self.assertRaises(AccessError):
            watermark.with_user(self.user).action_reset()
        watermark.action_reset()
        self.assertFalse(watermark.cursor_at)
        self.assertEqual(watermark.cursor_id, 0)
        action = watermark.action_pull()
        self.assertEqual(action["params"]["type"], "warning")

    def test_local_changes_not_sent_yet_win(self):
        partner = self.env["res.partner"].create({"name": "Local", "ref": "LOCAL-1"})
        self.env["sync.binding"]._bind(self.system, partner, "res.partner", "41")
        watermark = self.env["sync.rpc.watermark"]._pull_pairs().filtered(lambda w: w.system_id == self.system)
        # the creation is captured (what a commit does), not yet turned into a message
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.assertEqual(watermark._locally_changed([41, 42]), {41})
        self.env["sync.message"]._cron_create_queue()
        self.assertEqual(watermark._locally_changed([41]), {41})
        self.env["sync.message"].search([("res_id", "=", partner.id), ("model", "=", "res.partner")]).write(
            {"state": "done"})
        self.assertEqual(watermark._locally_changed([41]), set())
        # a change applied on behalf of the system itself does not hold its next pull back
        partner.with_context(sync_origin_system_ids=Origins(self.system.ids)).name = "From there"
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.assertEqual(watermark._locally_changed([41]), set())


@tagged("post_install", "-at_install")
class TestSweepGuard(series.AllowAllRequests, HttpCase):
    """The deletion sweep against a real Odoo: this test server, its records standing in for the remote's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        user = cls.env["res.users"].create({
            "name": "Sweep user", "login": "sweep_user", "password": "sweep_user_password",
            compat.GROUP_IDS: [(6, 0, [
                cls.env.ref("base.group_user").id, cls.env.ref("base.group_partner_manager").id,
            ])],
        })
        cls.system = cls.env["sync.system"].create({
            "name": "Itself", "code": "itself", "transport": "rpc", "rpc_protocol": "jsonrpc", "rpc_mode": "plain",
            "rpc_host": "127.0.0.1", "rpc_port": cls.http_port(), "rpc_database": cls.env.cr.dbname,
            "rpc_login": "sweep_user", "rpc_password": "sweep_user_password", "timeout": 20, "user_id": user.id,
        })
        library = cls.env["sync.library"].create({"name": "Sweep", "slug": "sweep_tests"})
        cls.data_type = cls.env["sync.data.type"].create({
            "name": "Partners", "library_id": library.id, "model_id": cls.env["ir.model"]._get("res.partner").id,
            "system_ids": [(6, 0, cls.system.ids)], "rpc_pull": True,
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"})],
        })
        Partner = cls.env["res.partner"]
        cls.local = Partner.create([{"name": f"Here {i}"} for i in range(12)])
        cls.remote = Partner.create([{"name": f"There {i}"} for i in range(12)])
        for here, there in zip(cls.local, cls.remote, strict=True):
            cls.env["sync.binding"]._bind(cls.system, here, "res.partner", str(there.id))
        cls.env.flush_all()
        # the setup's own changes are captured like any other: not changes of this test
        cls.env["sync.change"].search([]).unlink()

    def sweep(self, watermark):
        return watermark._sweep(self.system._rpc_client(), watermark._applier())

    def test_a_mass_deletion_is_held_until_a_manager_allows_it(self):
        watermark = self.env["sync.rpc.watermark"]._pull_pairs().filtered(lambda w: w.system_id == self.system)
        self.remote[:11].unlink()
        deleted, held = self.sweep(watermark)
        self.assertEqual(deleted, 0)
        self.assertIn("11 of 12 records checked are gone", held)
        self.assertTrue(watermark.deletions_held)
        self.assertEqual(len(self.local.exists()), 12, "nothing is deleted here")
        # held again on the next run: the slice is checked again, not skipped
        self.assertEqual(self.sweep(watermark)[0], 0)
        with self.assertRaises(AccessError):
            watermark.with_user(self.system.user_id).action_allow_deletions()
        watermark.action_allow_deletions()
        # a record changed here and not sent yet is kept: it is sent again and the remote gets it back
        self.env["sync.message"].create({
            "system_id": self.system.id, "data_type_id": self.data_type.id, "model": "res.partner",
            "res_id": self.local[0].id, "operation": "upsert",
        })
        deleted, held = self.sweep(watermark)
        self.assertEqual((deleted, held), (10, None))
        self.assertEqual(self.local.exists(), self.local[0] | self.local[11])
        self.assertFalse(watermark.allow_mass_deletion)
        self.assertFalse(watermark.deletions_held)

    def test_a_few_deletions_go_through(self):
        watermark = self.env["sync.rpc.watermark"]._pull_pairs().filtered(lambda w: w.system_id == self.system)
        self.remote[:2].unlink()
        self.assertEqual(self.sweep(watermark), (2, None))
        self.assertEqual(self.local.exists(), self.local[2:])
        self.assertFalse(watermark.deletions_held)

    def test_a_record_hidden_from_the_remote_user_is_not_a_deleted_one(self):
        watermark = self.env["sync.rpc.watermark"]._pull_pairs().filtered(lambda w: w.system_id == self.system)
        # a record rule hides two of "the remote's" records from its user; two others are really deleted
        hidden = self.remote[4:6]
        self.env["ir.rule"].create({
            "name": "hide two", "model_id": self.env["ir.model"]._get("res.partner").id,
            "domain_force": f"[('id', 'not in', {hidden.ids})]",
        })
        self.remote[:2].unlink()
        self.assertEqual(self.sweep(watermark), (2, None))
        self.assertEqual(self.local.exists(), self.local[2:], "the hidden ones are kept here")

    def test_pull_reads_and_the_sweep_work_over_json2(self):
        if compat.SERIES < 19:
            self.skipTest(f"Odoo {compat.SERIES}.0 has no JSON-2 API (Odoo 19 and later): its tests run on 19.0")
        key = self.env["res.users.apikeys"].with_user(self.system.user_id).sudo()._generate(None, "sweep", False)
        self.system.write({"rpc_protocol": "json2", "rpc_password": key})
        watermark = self.env["sync.rpc.watermark"]._pull_pairs().filtered(lambda w: w.system_id == self.system)
        client = self.system._rpc_client()
        self.assertEqual(client.kind, "json2")
        watermark.retry_ids = [self.remote[0].id]
        rows, later = watermark._retry_rows(client, watermark._specs(client))
        self.assertEqual(([row["id"] for row in rows], later), ([self.remote[0].id], []))
        # deleted there, and hidden there from the remote user: only the deleted go here
        self.env["ir.rule"].create({
            "name": "hide one", "model_id": self.env["ir.model"]._get("res.partner").id,
            "domain_force": f"[('id', '!=', {self.remote[5].id})]",
        })
        self.remote[:2].unlink()
        self.assertEqual(self.sweep(watermark), (2, None))
        self.assertEqual(self.local.exists(), self.local[2:])

    def test_records_to_read_again_take_turns_and_follow_the_remote_domain(self):
        watermark = self.env["sync.rpc.watermark"]._pull_pairs().filtered(lambda w: w.system_id == self.system)
        self.system.batch_size = 2
        self.data_type.rpc_pull_domain = "[('name', 'like', 'There')]"
        first, second, third = self.remote[:3]
        second.name = "Elsewhere"
        watermark.retry_ids = [first.id, second.id, third.id]
        client = self.system._rpc_client()
        rows, later = watermark._retry_rows(client, watermark._specs(client))
        self.assertEqual([row["id"] for row in rows], [first.id], "a page's worth, and only what the domain keeps")
        self.assertEqual(later, [third.id])
