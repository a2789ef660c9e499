from odoo import _, api, models
from odoo.exceptions import UserError

from odoo.addons.sync_base.lib.results import TransportResult

from ..lib import plain
from ..lib.client import RpcError


class SyncRpcPlain(models.AbstractModel):
    """Plain mode of the RPC transport: the remote Odoo has nothing of the suite."""

    _name = "sync.rpc.plain"
    _description = "Synchronization: Odoo RPC Plain Mode"

    @api.model
    def _send_plain(self, system, client, envelopes):
        """Apply ``envelopes`` with ordinary RPC calls, one ``load()`` per remote model and batch.

        Returns one :class:`TransportResult` per envelope; network failures
        raise :class:`~..lib.client.RpcError` (the caller fails the batch).
        """
        return self._prepare_plain(system, client, envelopes)()

    @api.model
    def _prepare_plain(self, system, client, envelopes):
        """Look up what the batch needs here; return what applies it on the remote without the database.

        Each envelope is applied with the data type its message was made by
        (asked of the queue by the envelope's id, ``sync.message._data_types_of``):
        two data types sharing a schema send the same message type, so the type
        names a data type only for an envelope the queue did not make, and only
        when a single data type of ``system`` sends it.
        """
        results = [None] * len(envelopes)
        own_code = self.env["sync.system"]._get_own_code()
        made_by = self.env["sync.message"]._data_types_of(system, [envelope.get("id") for envelope in envelopes])
        groups, by_type = {}, {}
        for index, envelope in enumerate(envelopes):
            data_type = made_by.get(envelope.get("id"))
            if data_type is None:
                # one lookup per message type of the batch, not per envelope
                if envelope["type"] not in by_type:
                    by_type[envelope["type"]] = self._data_types_by_type(system, envelope["type"])
                candidates = by_type[envelope["type"]]
                if len(candidates) > 1:
                    results[index] = TransportResult.permanent(_(
                        "Envelope %(id)s is no message of %(system)s, and several of its data types send messages "
                        "of type %(type)s (%(data_types)s): which one applies it cannot be told.",
                        id=envelope.get("id"), system=system.code, type=envelope["type"],
                        data_types=", ".join(candidates.mapped("display_name"))))
                    continue
                data_type = candidates
            if not data_type:
                results[index] = TransportResult.permanent(
                    _("No data type of %(system)s sends messages of type %(type)s.", system=system.code,
                      type=envelope["type"]))
                continue
            key = (data_type.remote_model or data_type.model_name, data_type.delete_mode)
            group = groups.setdefault(key, ([], []))
            group[0 if envelope["operation"] == "upsert" else 1].append((index, envelope))

        def deliver():
            for (remote_model, delete_mode), (upserts, deletions) in groups.items():
                outcomes = plain.apply_batch(client, remote_model, own_code, upserts, deletions,
                                             delete_mode=delete_mode)
                for index, outcome in outcomes.items():
                    if outcome.status == "done":
                        results[index] = TransportResult.acknowledged(
                            remote_model, outcome.remote_id if outcome.remote_id else None)
                    elif outcome.status == "transient":
                        results[index] = TransportResult.transient(outcome.reason)
                    else:
                        results[index] = TransportResult.permanent(outcome.reason)
            return results

        return deliver

    @api.model
    def _data_types_by_type(self, system, message_type):
        """The data types of ``system`` that send ``message_type``: for an envelope the queue did not make."""
        return self.env["sync.data.type"].sudo().search(
            [("message_type", "=", message_type), ("system_ids", "in", system.ids)])

    @api.model
    def _remote_field_names(self, system, remote_model):
        """``(field names, None)`` of ``remote_model`` on ``system``'s Odoo, or ``(None, why)`` when not reachable.

        One ``fields_get`` call through the system's pooled client (its one
        network choke point and its timeout).  The reason is the client's
        message (which never holds the password) or the system's
        configuration error; never a traceback.
        """
        try:
            described = system._rpc_client().execute(remote_model, "fields_get", attributes=["type"])
        except RpcError as exc:
            return None, str(exc)
        except UserError as exc:  # ValidationError included: the connection is not configured
            return None, exc.args[0]
        if not isinstance(described, dict):
            return None, _("the remote answered fields_get of %(model)s with something else than fields.",
                           model=remote_model)
        return set(described), None
