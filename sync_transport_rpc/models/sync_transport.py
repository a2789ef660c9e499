import logging

from odoo import _, models
from odoo.exceptions import UserError

from odoo.addons.sync_base.lib.results import TransportResult

from ..lib.client import RpcError

_logger = logging.getLogger(__name__)


class SyncTransport(models.AbstractModel):
    _inherit = "sync.transport"

    def _send(self, system, envelopes):
        if system.transport != "rpc":
            return super()._send(system, envelopes)
        try:
            client = system._rpc_client()
            if system.rpc_mode == "suite":
                return self._rpc_send_suite(system, client, envelopes)
            return self.env["sync.rpc.plain"]._send_plain(system, client, envelopes)
        except RpcError as exc:
            # never the credentials: the client's messages name the server, not the password
            _logger.info("RPC transport of %s: %s", system.code, exc)
            result = (TransportResult.transient(str(exc)) if exc.transient
                      else TransportResult.permanent(str(exc)))
            return [result] * len(envelopes)

    def _rpc_send_suite(self, system, client, envelopes):
        """Post the envelopes to the remote suite's inbound endpoint; its answers are the results."""
        token = system.sudo().rpc_remote_token
        if not token:
            return [TransportResult.permanent(_("System %(name)s has no remote inbound token.",
                                                name=system.display_name))] * len(envelopes)
        own_code = self.env["sync.system"]._get_own_code()
        answers = client.post_envelopes(own_code, token, envelopes)
        return [self._rpc_answer_result(answer) for answer in answers]

    def _rpc_answer_result(self, answer):
        if not isinstance(answer, dict):
            return TransportResult.transient(_("The remote answered %(answer)r.", answer=answer))
        if answer.get("status") == "done":
            return TransportResult.acknowledged(answer.get("remote_model"), answer.get("remote_ref"))
        reason = answer.get("reason") or _("refused by the remote suite")
        if answer.get("permanent"):
            return TransportResult.permanent(reason)
        return TransportResult.transient(reason)

    def _ping(self, system):
        if system.transport != "rpc":
            return super()._ping(system)
        client = system._rpc_client()
        checks = []
        try:
            version = client.version()
        except RpcError as exc:
            raise UserError(_("Reachability or TLS: %(error)s", error=exc)) from None
        server_version = (version or {}).get("server_version", "?")
        checks.append(_("reachable, Odoo %(version)s", version=server_version))
        try:
            client.uid  # noqa: B018 - logs in
        except RpcError as exc:
            raise UserError(_("Odoo %(version)s answers, but the database or the credentials were refused: "
                              "%(error)s", version=server_version, error=exc)) from None
        checks.append(_("database %(db)s and login %(login)s accepted", db=system.rpc_database,
                        login=system.rpc_login))
        if system.rpc_mode == "suite":
            own_code = self.env["sync.system"]._get_own_code()
            status, _raw = client.get_health(own_code, system.sudo().rpc_remote_token or "")
            if status != 200:
                raise UserError(_("Odoo and the login work, but the remote suite refused the inbound token for "
                                  "code %(code)s (HTTP %(status)s).", code=own_code, status=status))
            checks.append(_("remote suite accepts our token"))
        return "; ".join(checks)
