import logging

from odoo import _, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.sync_base.lib.results import TransportResult
from odoo.addons.sync_queue.lib import compare

from ..lib import plain_compare
from ..lib.client import RpcError

_logger = logging.getLogger(__name__)


class SyncTransport(models.AbstractModel):
    _inherit = "sync.transport"

    def _send(self, system, envelopes):
        if system.transport != "rpc":
            return super()._send(system, envelopes)
        return self._send_deferred(system, envelopes)()

    def _send_deferred(self, system, envelopes):
        if system.transport != "rpc":
            return super()._send_deferred(system, envelopes)
        count = len(envelopes)
        try:
            client = system._rpc_client()
        except ValidationError as exc:
            result = TransportResult.permanent(exc.args[0])
            return lambda: [result] * count
        if system.rpc_mode == "suite":
            token = system.sudo().rpc_remote_token
            if not token:
                result = TransportResult.permanent(_("System %(name)s has no remote inbound token.",
                                                     name=system.display_name))
                return lambda: [result] * count
            own_code = self.env["sync.system"]._get_own_code()

            # translated here: the delivery runs in a worker thread, away from the environment
            texts = {"refused": _("refused by the remote suite"), "odd": _("The remote answered: ")}

            def work():
                return [_answer_result(a, texts) for a in client.post_envelopes(own_code, token, envelopes)]
        else:
            work = self.env["sync.rpc.plain"]._prepare_plain(system, client, envelopes)
        code = system.code

        def deliver():
            try:
                return work()
            except RpcError as exc:
                # never the credentials: the client's messages name the server, not the password
                _logger.info("RPC transport of %s: %s", code, exc)
                result = (TransportResult.transient(str(exc)) if exc.transient
                          else TransportResult.permanent(str(exc)))
                return [result] * count

        return deliver

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
        major = _major(version)
        if client.kind == "json2" and major is not None and major < 19:
            raise UserError(_("Odoo %(version)s answers, but has no JSON-2 API (Odoo 19 and later): choose JSON-RPC "
                              "or XML-RPC for it.", version=server_version))
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
        if client.kind != "json2" and major is not None and major >= 19:
            checks.append(_("Odoo %(version)s deprecates XML-RPC and JSON-RPC (it logs every call, and removal is "
                            "announced): switch the protocol to JSON-2, with an API key", version=server_version))
        return "; ".join(checks)


    # ------------------------------------------------------------------
    # Reconciliation
    # ------------------------------------------------------------------
    def _compare_unsupported(self, system):
        if system.transport != "rpc":
            return super()._compare_unsupported(system)
        if system.rpc_mode == "suite" and not system.sudo().rpc_remote_token:
            return _("System %(name)s has no remote inbound token: the remote suite cannot be asked.",
                     name=system.display_name)
        return None

    def _compare_records(self, system, data_type, items):
        if system.transport != "rpc":
            return super()._compare_records(system, data_type, items)
        client = self._compare_client(system)
        try:
            if system.rpc_mode == "suite":
                own_code = self.env["sync.system"]._get_own_code()
                token = system.sudo().rpc_remote_token

                def post(route, body):
                    return client.post_compare(own_code, token, route, body)

                return compare.compare_by_digest(post, data_type.message_type, data_type.model_name, items,
                                                 source=own_code)
            bindings = {res_id: binding.remote_ref for res_id, binding in
                        self.env["sync.binding"].sudo()._find(system, data_type.model_name, list(items)).items()}
            return plain_compare.compare_batch(
                client, data_type.remote_model or data_type.model_name, self.env["sync.system"]._get_own_code(),
                data_type.model_name, items, bindings)
        except (RpcError, compare.CompareProtocolError) as exc:
            raise UserError(_("%(system)s could not be asked: %(error)s", system=system.display_name,
                              error=exc)) from None

    def _compare_remote_model(self, system, data_type):
        if system.transport != "rpc" or system.rpc_mode == "suite":
            return super()._compare_remote_model(system, data_type)
        return data_type.remote_model or data_type.model_name

    def _compare_holdings(self, system, data_type, after, limit):
        if system.transport != "rpc":
            return super()._compare_holdings(system, data_type, after, limit)
        client = self._compare_client(system)
        own_code = self.env["sync.system"]._get_own_code()
        try:
            if system.rpc_mode == "suite":
                answer = client.post_compare(own_code, system.sudo().rpc_remote_token, "digest", {
                    "type": data_type.message_type, "model": data_type.model_name, "after": after, "limit": limit,
                    "source": own_code})
                return compare.holdings_page(answer)
            return plain_compare.holdings(client, data_type.remote_model or data_type.model_name, own_code,
                                          data_type.model_name, after, limit)
        except (RpcError, compare.CompareProtocolError) as exc:
            raise UserError(_("%(system)s could not be asked: %(error)s", system=system.display_name,
                              error=exc)) from None

    def _compare_client(self, system):
        try:
            return system._rpc_client()
        except ValidationError as exc:
            raise UserError(exc.args[0]) from None


def _major(version):
    """The major version number in a remote's version information, or None."""
    info = (version or {}).get("server_version_info") if isinstance(version, dict) else None
    if isinstance(info, (list, tuple)) and info and isinstance(info[0], int):
        return info[0]
    return None


def _answer_result(answer, texts):
    """The result of one answer of the remote suite's inbound endpoint."""
    if not isinstance(answer, dict):
        return TransportResult.transient(texts["odd"] + repr(answer))
    if answer.get("status") == "done":
        return TransportResult.acknowledged(answer.get("remote_model"), answer.get("remote_ref"))
    reason = answer.get("reason") or texts["refused"]
    if answer.get("permanent"):
        return TransportResult.permanent(reason)
    return TransportResult.transient(reason)
