from odoo import fields, models


class SyncMessageAttempt(models.Model):
    """One attempt at sending a message: when, with what outcome, how long, why it failed."""

    _name = "sync.message.attempt"
    _description = "Synchronization Message Attempt"
    _order = "id desc"

    message_id = fields.Many2one("sync.message", required=True, ondelete="cascade", index=True)
    attempted_at = fields.Datetime(default=fields.Datetime.now, required=True)
    outcome = fields.Char(required=True)
    duration = fields.Float(help="Seconds")
    error = fields.Text()
