import os
import signal
import time

from odoo import _, models
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

    # ------------------------------------------------------------------
    # Reconciliation: the other side holds the last envelope it acknowledged of each record
    # ------------------------------------------------------------------
    def _compare_unsupported(self, system):
        if system.transport != "test":
            return super()._compare_unsupported(system)
        if system.test_ping_error:
            return system.test_ping_error
        return None

    def _test_holdings(self, system, model):
        """``{res_id: payload}``: what the test receiver holds of ``model``, from the recorded envelopes."""
        calls = self.env["sync.test.transport.call"].sudo().search(
            [("system_id", "=", system.id), ("outcome", "=", "acknowledged")], order="id")
        held = {}
        for call in calls:
            envelope = call.envelope or {}
            record = envelope.get("record") or {}
            if record.get("model") != model:
                continue
            if envelope.get("operation") == "delete":
                held.pop(record["id"], None)
            else:
                held[record["id"]] = envelope.get("payload") or {}
        return held

    def _compare_records(self, system, data_type, items):
        if system.transport != "test":
            return super()._compare_records(system, data_type, items)
        if system.test_outcome == "raise":
            raise UserError(_("test transport: the receiver is unreachable"))
        from odoo.addons.sync_queue.lib import compare

        held = self._test_holdings(system, data_type.model_name)
        results = {}
        for res_id, document in items.items():
            if res_id not in held:
                results[res_id] = (False, None, None)
            else:
                there = held[res_id]
                results[res_id] = (True, f"test/{res_id}", compare.diff(document, there) if document else [])
        return results

    def _compare_holdings(self, system, data_type, after, limit):
        if system.transport != "test":
            return super()._compare_holdings(system, data_type, after, limit)
        ids = sorted(res_id for res_id in self._test_holdings(system, data_type.model_name) if res_id > after)
        page = ids[:limit]
        return [(res_id, f"test/{res_id}") for res_id in page], (page[-1] if len(ids) > limit else None)
