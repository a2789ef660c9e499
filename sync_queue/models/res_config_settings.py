from odoo import api, fields, models

from ..lib.states import SEND_CRONS


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    sync_send_workers = fields.Integer(
        string="Send Schedulers", help="How many send schedulers run in parallel (1 to 4)."
    )
    sync_send_time_budget = fields.Integer(
        string="Send Time Budget (s)", config_parameter="sync_queue.send_time_budget", default=60,
        help="A send run stops claiming after this many seconds (keep it under limit_time_real_cron).",
    )
    sync_vacuum_days = fields.Integer(
        string="Keep Finished Messages (days)", config_parameter="sync_queue.vacuum_days", default=30,
    )
    sync_inbound_keep_days = fields.Integer(
        string="Keep Incoming Messages (days)", config_parameter="sync_queue.inbound_keep_days", default=7,
        help="Received envelopes are kept this long, so a replay within it is answered and applied once.",
    )

    @api.model
    def get_values(self):
        res = super().get_values()
        crons = [self.env.ref(xmlid, raise_if_not_found=False) for xmlid in SEND_CRONS]
        res["sync_send_workers"] = len([c for c in crons if c and c.active]) or 1
        return res

    def set_values(self):
        res = super().set_values()
        wanted = min(max(self.sync_send_workers or 1, 1), len(SEND_CRONS))
        for index, xmlid in enumerate(SEND_CRONS):
            cron = self.env.ref(xmlid, raise_if_not_found=False)
            if cron and cron.active != (index < wanted):
                cron.sudo().active = index < wanted
        return res
