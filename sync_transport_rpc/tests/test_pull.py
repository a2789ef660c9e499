from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

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
        partner.with_context(sync_origin_system_ids=self.system.ids).name = "From there"
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.assertEqual(watermark._locally_changed([41]), set())
