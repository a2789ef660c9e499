from odoo import fields, models


class SyncTestTransportCall(models.Model):
    """One envelope handed to the test transport, so tests can count deliveries."""

    _name = "sync.test.transport.call"
    _description = "Test Transport Call"
    _order = "id"

    system_id = fields.Many2one("sync.system", required=True, ondelete="cascade")
    message_uuid = fields.Char(index=True)
    envelope = fields.Json()
    outcome = fields.Char()
    called_at = fields.Float(help="When the transport was called: Unix time in seconds, to the microsecond.")
