import os
import signal
import time

from odoo import models
from odoo.exceptions import UserError

from odoo.addons.sync_base.lib.results import TransportResult


class SyncTransport(models.AbstractModel):
    _inherit = "sync.transport"

    def _send(self, system, envelopes):
        if system.transport != "test":
            return super()._send(system, envelopes)
        outcome = system.test_outcome or "acknowledged"
        if system.test_delay:
            time.sleep(system.test_delay)
        if system.test_kill_marker and any(
            system.test_kill_marker in str((e.get("payload") or {}).get("name", "")) for e in envelopes
        ):
            os.kill(os.getpid(), signal.SIGKILL)
        if system.test_record_calls:
            self.env["sync.test.transport.call"].sudo().create([
                {"system_id": system.id, "message_uuid": e["id"], "envelope": e, "outcome": outcome,
                 "called_at": time.time()}
                for e in envelopes
            ])
        if outcome == "raise":
            raise ConnectionError("test transport: the receiver is unreachable")
        results = []
        for envelope in envelopes:
            if outcome == "acknowledged":
                record = envelope["record"]
                results.append(TransportResult.acknowledged(record["model"], f"test/{record['id']}"))
            elif outcome == "accepted":
                results.append(TransportResult.accepted())
            elif outcome == "transient":
                retry_after = system.test_retry_after or None
                results.append(TransportResult.transient("test: try later", retry_after=retry_after))
            else:
                results.append(TransportResult.permanent("test: refused"))
        return results

    def _ping(self, system):
        if system.transport != "test":
            return super()._ping(system)
        if system.test_ping_error:
            raise UserError(system.test_ping_error)
        return "test transport: reachable"
