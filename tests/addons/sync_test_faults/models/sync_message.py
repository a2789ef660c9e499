from odoo import models

from . import faults


class SyncMessage(models.Model):
    _inherit = "sync.message"

    def _freeze_claimed(self, ids):
        claimed = super()._freeze_claimed(ids)
        # the claim and the envelopes are committed; nothing has gone to the transport
        path = faults.kill_file(self.env, "freeze")
        if path and faults.take(path):
            faults.kill("freeze")
        return claimed

    def _store_results(self, ids, results, duration, attempts=None):
        # the transport answered; nothing of its answer is stored yet
        path = faults.kill_file(self.env, "store")
        if path and faults.take(path):
            faults.kill("store")
        return super()._store_results(ids, results, duration, attempts=attempts)

    def _freeze_envelopes(self):
        frozen = super()._freeze_envelopes()
        faults.hold(self.env)
        return frozen

    def _apply_results(self, results, duration=0.0, replies=True, attempts=None):
        applied = super()._apply_results(results, duration, replies=replies, attempts=attempts)
        faults.hold(self.env)
        return applied
