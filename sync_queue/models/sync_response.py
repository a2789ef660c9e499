from odoo import _, api, fields, models

from odoo.addons.sync_base.lib.results import TransportResult


class SyncResponse(models.Model):
    """An acknowledgement or reply received for a message: the response queue."""

    _name = "sync.response"
    _description = "Synchronization Response"
    _order = "id desc"

    message_uuid = fields.Char(required=True, index=True)
    message_id = fields.Many2one("sync.message", ondelete="set null", index=True)
    system_id = fields.Many2one("sync.system", ondelete="cascade")
    status = fields.Selection([("done", "Done"), ("error", "Error")], required=True)
    permanent = fields.Boolean()
    reason = fields.Text()
    remote_model = fields.Char()
    remote_ref = fields.Char()
    body = fields.Json()
    received_at = fields.Datetime(default=fields.Datetime.now, required=True)
    result = fields.Selection([("applied", "Applied"), ("duplicate", "Duplicate"), ("unknown", "Unknown")])

    @api.model
    def _receive(self, system, ack):
        """Record an acknowledgement of ``system`` and move its message; return applied, duplicate or unknown."""
        message = self.env["sync.message"].sudo().search(
            [("uuid", "=", ack.get("message_id")), ("system_id", "=", system.id)], limit=1
        )
        if message:
            self.env.cr.execute("SELECT id FROM sync_message WHERE id = %s FOR UPDATE", [message.id])
            message.invalidate_recordset()
        if not message:
            result = "unknown"
        elif message.state not in ("sending", "sent", "retry") and not (
            message.state == "failed" and ack.get("status") == "done"
        ):
            result = "duplicate"
        else:
            result = "applied"
        self.sudo().create({
            "message_uuid": str(ack.get("message_id") or ""),
            "message_id": message.id,
            "system_id": system.id,
            "status": "done" if ack.get("status") == "done" else "error",
            "permanent": bool(ack.get("permanent")),
            "reason": ack.get("reason") or False,
            "remote_model": ack.get("remote_model") or False,
            "remote_ref": ack.get("remote_ref") and str(ack["remote_ref"]),
            "body": ack,
            "result": result,
        })
        if result == "applied":
            if ack.get("status") == "done":
                transport_result = TransportResult.acknowledged(ack.get("remote_model"), ack.get("remote_ref"))
            elif ack.get("permanent"):
                transport_result = TransportResult.permanent(ack.get("reason") or _("refused"))
            else:
                transport_result = TransportResult.transient(ack.get("reason") or _("refused"))
            message.state = "sending"  # an acknowledgement moves a sending or sent message
            message._apply_result(transport_result)
        return result
