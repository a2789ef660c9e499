from odoo import _, api, fields, models


class SyncSystem(models.Model):
    """The Compare button of a system, and its last comparison on the dashboard."""

    _inherit = "sync.system"

    compare_run_ids = fields.One2many("sync.compare.run", "system_id", string="Comparisons")
    compare_support = fields.Char(
        compute="_compute_compare_support", string="Cannot Compare",
        help="Why this system's transport cannot compare records with the other side.")
    last_compare_run_id = fields.Many2one("sync.compare.run", compute="_compute_last_compare",
                                          string="Last Comparison")
    last_compare_drift = fields.Integer(compute="_compute_last_compare", string="Drift Found")

    @api.depends("transport")
    def _compute_compare_support(self):
        Transport = self.env["sync.transport"]
        for system in self:
            system.compare_support = Transport._compare_unsupported(system) if system.id else False

    def _compute_last_compare(self):
        Runs = self.env["sync.compare.run"]
        for system in self:
            runs = Runs.search([("system_id", "=", system.id)], limit=200) if system.id else Runs
            system.last_compare_run_id = runs[:1]
            # the drift of the last finished comparison of each data type: what is known to be out of step now
            latest = {}
            for run in runs.filtered(lambda r: r.state == "done"):
                latest.setdefault(run.data_type_id.id, run.drift_count)
            system.last_compare_drift = sum(latest.values())

    def action_compare(self):
        """Compare what every enabled data type sends to this system with what the system holds now."""
        self.ensure_one()
        data_types = self.env["sync.data.type"].sudo().search([("system_ids", "in", self.ids)])
        runs = self.env["sync.compare.run"]._start(self, data_types)
        return runs._open_action()

    def action_view_compare_runs(self):
        self.ensure_one()
        return self.env["sync.compare.run"]._list_action([("system_id", "=", self.id)],
                                                         _("Comparisons of %(name)s", name=self.name))

    def action_open_last_compare(self):
        self.ensure_one()
        return self.last_compare_run_id._open_action() if self.last_compare_run_id else \
            self.action_view_compare_runs()
