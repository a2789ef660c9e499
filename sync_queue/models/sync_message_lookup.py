"""The send queue, for transports: what a message was made by, asked through a method rather than its tables."""

from odoo import api, models
from odoo.tools import SQL


class SyncMessageLookup(models.Model):
    _inherit = "sync.message"

    @api.model
    def _data_types_of(self, system, uuids):
        """The data type each message of ``system`` was made by, for a transport that needs it.

        ``uuids`` are envelope ids (the messages' ``uuid``); returns ``{uuid:
        sync.data.type record}`` (as superuser) for those that are messages
        of ``system``, and leaves out the others (an envelope the queue did
        not make).  Two data types may share a schema, hence a message type:
        the envelope's ``type`` alone does not tell which one made it, its id
        does.  The data type of a message never changes.
        """
        wanted = {uuid for uuid in uuids or () if isinstance(uuid, str) and uuid}
        if not wanted or not system:
            return {}
        found = self._data_type_ids_of(self.env, system, wanted)
        missing = wanted - set(found)
        if missing:
            # the claim commits from a cursor of its own: a message queued after this transaction's snapshot
            # was taken can be in the batch, and only a fresh snapshot sees it
            with self.env.registry.cursor() as cr:
                found.update(self._data_type_ids_of(self.env(cr=cr), system, missing))
        DataType = self.env["sync.data.type"].sudo()
        return {uuid: DataType.browse(data_type_id) for uuid, data_type_id in found.items()}

    @api.model
    def _data_type_ids_of(self, env, system, uuids):
        """``{uuid: data type id}`` of the messages of ``system`` among ``uuids`` that ``env``'s cursor sees."""
        env["sync.message"].flush_model(["uuid", "system_id", "data_type_id"])
        env.cr.execute(SQL("SELECT uuid, data_type_id FROM sync_message WHERE system_id = %s AND uuid = ANY(%s)",
                           system.id, sorted(uuids)))
        return dict(env.cr.fetchall())
