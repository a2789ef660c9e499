import threading

from odoo import models

from . import faults


class SyncSystem(models.Model):
    _inherit = "sync.system"

    def _fault_during_transport(self):
        """What kills the process while the transport call runs: ``(marker file, delay)``."""
        path = faults.kill_file(self.env, "transport")
        return path, float(faults.param(self.env, "kill_delay") or 1.0)

    def _send_envelopes(self, envelopes):
        path, delay = self._fault_during_transport()
        if path and faults.take(path):
            threading.Timer(delay, faults.kill, ("transport",)).start()
        return super()._send_envelopes(envelopes)

    def _send_envelopes_deferred(self, envelopes):
        deliver = super()._send_envelopes_deferred(envelopes)
        path, delay = self._fault_during_transport()
        if deliver is None or not path:
            return deliver

        def deliver_then_die():
            # in the queue's delivery thread, away from the environment: the file only
            if faults.take(path):
                threading.Timer(delay, faults.kill, ("transport",)).start()
            return deliver()

        return deliver_then_die
