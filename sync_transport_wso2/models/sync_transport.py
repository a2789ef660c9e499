import logging

from odoo import _, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.sync_base.lib.results import TransportResult
from odoo.addons.sync_queue.lib import compare

from ..lib import broker
from ..lib.client import BrokerError

_logger = logging.getLogger(__name__)


class SyncTransport(models.AbstractModel):
    _inherit = "sync.transport"

    def _targets(self, system):
        if system.transport == "wso2" and system._wso2_target_codes():
            return system._wso2_target_codes()
        return super()._targets(system)

    def _send(self, system, envelopes):
        if system.transport != "wso2":
            return super()._send(system, envelopes)
        client = system._wso2_client()
        if system.wso2_batch == "batch":
            return self._wso2_post(system, client, envelopes)[0]
        results = []
        for index, envelope in enumerate(envelopes):
            answer, answered = self._wso2_post(system, client, [envelope])
            result = answer[0]
            results.append(result)
            if result.status == "transient" and (not answered or result.retry_after is not None):
                # down, hanging or asking to wait: the rest of the batch would only meet the same
                results.extend([result] * (len(envelopes) - index - 1))
                break
        return results

    def _wso2_post(self, system, client, envelopes):
        """One request with ``envelopes`` (one, or a batch); ``(one TransportResult per envelope, answered)``:
        ``answered`` is False when no HTTP answer came."""
        headers, body = broker.request_for(envelopes, batched=system.wso2_batch == "batch")
        try:
            status, answer_headers, text = client.post(headers, body)
        except BrokerError as exc:
            # never the credentials: the client's messages name the URL, not the secrets
            _logger.info("WSO2 transport of %s: %s", system.code, exc)
            result = TransportResult.transient(str(exc)) if exc.transient else TransportResult.permanent(str(exc))
            return [result] * len(envelopes), False
        if status >= 400:
            _logger.info("WSO2 transport of %s: HTTP %s for %s envelope(s)", system.code, status, len(envelopes))
        outcomes = broker.interpret(status, answer_headers, text, envelopes, ack_mode=system.wso2_ack_mode)
        return [self._wso2_result(outcome) for outcome in outcomes], True

    def _wso2_result(self, outcome):
        if outcome.status == "acknowledged":
            return TransportResult.acknowledged(outcome.remote_model, outcome.remote_ref)
        if outcome.status == "accepted":
            return TransportResult.accepted()
        if outcome.status == "transient":
            return TransportResult.transient(outcome.reason, retry_after=outcome.retry_after)
        return TransportResult.permanent(outcome.reason)

    def _ping(self, system):
        if system.transport != "wso2":
            return super()._ping(system)
        stages = {"reachability": _("Reachability"), "tls": _("TLS"), "authentication": _("Authentication")}
        checks = system._wso2_client().check()
        failed = [(stage, detail) for stage, ok, detail in checks if not ok]
        ok_text = _("ok")  # not inside the comprehension: its frame would hide the language from _()
        passed = [f"{stages[stage]}: {detail or ok_text}" for stage, ok, detail in checks if ok]
        if failed:
            stage, detail = failed[0]
            raise UserError(_("%(stage)s failed: %(detail)s%(passed)s", stage=stages[stage], detail=detail,
                              passed=(" (" + "; ".join(passed) + ")") if passed else ""))
        return "; ".join(passed)

    # ------------------------------------------------------------------
    # Reconciliation: through the broker's optional comparison route
    # ------------------------------------------------------------------
    def _compare_unsupported(self, system):
        if system.transport != "wso2":
            return super()._compare_unsupported(system)
        if not system.wso2_compare_url:
            return _("System %(name)s has no comparison route configured: set Comparison URL to the broker's "
                     "digest route to compare.", name=system.display_name)
        targets = self._targets(system)
        if len(targets) != 1:
            return _("System %(name)s broadcasts to several targets (%(targets)s): a comparison asks one; compare "
                     "through a system of each target instead.", name=system.display_name,
                     targets=", ".join(targets))
        return None

    def _compare_records(self, system, data_type, items):
        if system.transport != "wso2":
            return super()._compare_records(system, data_type, items)
        post = self._wso2_compare_post(system)
        try:
            return compare.compare_by_digest(post, data_type.message_type, data_type.model_name, items)
        except (BrokerError, broker.CompareRefused, compare.CompareProtocolError) as exc:
            raise self._wso2_compare_error(system, exc) from None

    def _compare_holdings(self, system, data_type, after, limit):
        if system.transport != "wso2":
            return super()._compare_holdings(system, data_type, after, limit)
        post = self._wso2_compare_post(system)
        try:
            return compare.holdings_page(post("digest", {
                "type": data_type.message_type, "model": data_type.model_name, "after": after, "limit": limit}))
        except (BrokerError, broker.CompareRefused, compare.CompareProtocolError) as exc:
            raise self._wso2_compare_error(system, exc) from None

    def _wso2_compare_post(self, system):
        """``post(route, body)``: a comparison request through the broker, its decoded answer (or it raises)."""
        unsupported = self._compare_unsupported(system)
        if unsupported:
            raise UserError(unsupported)
        try:
            client = system._wso2_client()
        except ValidationError as exc:
            raise UserError(exc.args[0]) from None
        source = self.env["sync.system"]._get_own_code()
        targets = self._targets(system)

        def post(route, body):
            headers, raw = broker.compare_request(route, source, targets, body)
            status, _headers, text = client.post_compare(route, headers, raw)
            return broker.compare_answer(status, text, f"{client.compare_url}/{route}")

        return post

    def _wso2_compare_error(self, system, exc):
        # never the credentials: the client's messages name the URL, not the secrets
        _logger.info("WSO2 comparison of %s: %s", system.code, exc)
        return UserError(_("%(system)s could not be compared through the broker: %(error)s",
                           system=system.display_name, error=exc))
