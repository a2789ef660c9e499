"""The worked example of sync_base's transport guide: one envelope per POST, with a timeout."""

import requests

from odoo import _, models
from odoo.exceptions import UserError

from odoo.addons.sync_base.lib.results import TransportResult

RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}


class SyncTransport(models.AbstractModel):
    _inherit = "sync.transport"

    def _webhook_call(self, system, method, envelope=None):
        """The one network call of the transport: always the system's timeout, never a redirect."""
        return requests.request(method, system.webhook_url, json=envelope, timeout=system.timeout,
                                allow_redirects=False)

    def _send(self, system, envelopes):
        if system.transport != "webhook":
            return super()._send(system, envelopes)
        results = []
        for envelope in envelopes:
            try:
                answer = self._webhook_call(system, "POST", envelope)
            except requests.RequestException as exc:
                results.append(TransportResult.transient(f"cannot reach {system.webhook_url}: {exc}"))
                continue
            if answer.ok:  # applied: the receiver's id of the record, if it says it, becomes the binding
                body = answer.json() if answer.content else {}
                ref = body.get("id") if isinstance(body, dict) else None
                results.append(TransportResult.acknowledged(envelope["record"]["model"], ref))
            elif answer.status_code in RETRY_STATUSES:
                delay = answer.headers.get("Retry-After", "")
                results.append(TransportResult.transient(f"HTTP {answer.status_code}",
                                                         retry_after=float(delay) if delay.isdigit() else None))
            else:  # the receiver refuses this envelope for good: the message fails with its reason
                results.append(TransportResult.permanent(f"HTTP {answer.status_code}: {answer.text[:200]}"))
        return results

    def _ping(self, system):
        if system.transport != "webhook":
            return super()._ping(system)
        try:
            answer = self._webhook_call(system, "OPTIONS")
        except requests.RequestException as exc:
            raise UserError(_("Cannot reach %(url)s: %(error)s", url=system.webhook_url, error=exc)) from None
        return _("reachable (HTTP %(status)s)", status=answer.status_code)
