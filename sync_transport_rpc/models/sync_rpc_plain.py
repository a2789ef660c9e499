from odoo import _, api, models

from odoo.addons.sync_base.lib.results import TransportResult

from ..lib import plain


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
        """Look up what the batch needs here; return what applies it on the remote without the database."""
        results = [None] * len(envelopes)
        own_code = self.env["sync.system"]._get_own_code()
        groups, data_types = {}, {}
        for index, envelope in enumerate(envelopes):
            # one lookup per message type of the batch, not per envelope
            if envelope["type"] not in data_types:
                data_types[envelope["type"]] = self._data_type(system, envelope["type"])
            data_type = data_types[envelope["type"]]
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
    def _data_type(self, system, message_type):
        return self.env["sync.data.type"].sudo().search(
            [("message_type", "=", message_type), ("system_ids", "in", system.ids)], limit=1)
