import json

from odoo import fields, models
from odoo.tools import SQL, split_every


class SyncChange(models.Model):
    """A captured change of a synchronized record: the transactional outbox.

    Rows are written in the same transaction as the change itself (a
    precommit hook of the capturing transaction), so a rolled-back
    transaction leaves none and a committed one always leaves its rows.
    The scheduler ``sync_queue.ir_cron_create_queue`` turns them into
    messages and deletes them.
    """

    _name = "sync.change"
    _description = "Synchronization Pending Change"
    _order = "id"
    _log_access = False

    model = fields.Char(required=True, index=True)
    res_id = fields.Integer(required=True)
    operation = fields.Selection(
        [("create", "Created"), ("write", "Updated"), ("unlink", "Deleted")],
        required=True,
    )
    payload = fields.Json(help="For deletions: what the other side needs to find the record.")
    origin_system_ids = fields.Char(
        help="Ids of the systems on whose behalf the change was applied (the calling system and the origin "
        "it relays for), separated by commas: nothing is sent back to them."
    )
    create_date = fields.Datetime(default=fields.Datetime.now, readonly=True)

    def _flush_captured(self):
        """Precommit hook: write the transaction's captured changes, one row per record and operation."""
        from .base import PRECOMMIT_KEY

        pending = self.env.cr.precommit.data.pop(PRECOMMIT_KEY, None)
        if not pending:
            return
        now = fields.Datetime.now()
        rows = [
            (model, res_id, operation, json.dumps(payload) if payload else None,
             ",".join(map(str, origin)) if origin else None, now)
            for (model, res_id), (operation, payload, origin) in pending.items()
        ]
        for chunk in split_every(1000, rows):
            self.env.cr.execute(SQL(
                "INSERT INTO sync_change (model, res_id, operation, payload, origin_system_ids, create_date) VALUES %s",
                SQL(", ").join(SQL("(%s, %s, %s, %s, %s, %s)", *row) for row in chunk),
            ))
