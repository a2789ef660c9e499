import time

from odoo import api, models

from . import faults


class SyncInboundMessage(models.Model):
    _inherit = "sync.inbound.message"

    @api.model
    def _receive_envelopes(self, system, items):
        answers = super()._receive_envelopes(system, items)
        # applied, not committed yet: a sender that gives up meanwhile never hears that it was
        delay = float(faults.param(self.env, "inbound_delay") or 0)
        if delay:
            path = faults.param(self.env, "inbound_delay_file")
            if not path or faults.take(path):
                time.sleep(delay)
        return answers
