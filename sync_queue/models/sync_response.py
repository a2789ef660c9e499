import json

from odoo import _, api, fields, models
from odoo.tools import SQL

from odoo.addons.sync_base.lib.results import ACKNOWLEDGED, PERMANENT, TransportResult

from ..lib import states


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
    channel = fields.Selection(
        [("transport", "Reply to the send call"), ("endpoint", "Posted to the acknowledgement endpoint")],
        required=True, default="endpoint",
        help="Where the response came from: the transport's answer to the call that sent the message, or an "
             "acknowledgement posted later to /sync/<code>/acks.")

    # the local record of the message answered, for Open Record
    model = fields.Char(related="message_id.model", string="Local Model")
    res_id = fields.Integer(related="message_id.res_id", string="Local Record ID")

    @api.depends("status", "permanent", "message_uuid", "message_id.record_name")
    def _compute_display_name(self):
        # what the breadcrumb shows: what it is, and of which message (every reader of a response reads its
        # message: the record rules of both go through the message's company)
        for response in self:
            if response.status == "done":
                kind = _("Acknowledgement")
            elif response.permanent:
                kind = _("Refusal")
            else:
                kind = _("Error")
            name = response.message_id.record_name
            response.display_name = (
                _("%(kind)s of %(name)s (%(uuid)s)", kind=kind, name=name, uuid=(response.message_uuid or "")[:8])
                if name else _("%(kind)s of %(uuid)s", kind=kind, uuid=response.message_uuid or "?")
            )

    def action_open_record(self):
        """Open the local record of the message this response answers, if the user may read it."""
        self.ensure_one()
        return self.env["sync.message"]._open_record_action(self.model, self.res_id)

    @api.model
    def _insert_replies(self, replies, now):
        """Store what the transport answered for messages it sent: ``replies`` of ``(row, result, moved)``
        (``row``: the message's ``ResultRow``, as storing results reads it), in one statement (the send
        queue's hot path).  Which answers are kept is :func:`..lib.decisions.keeps_reply`'s."""
        if not replies:
            return
        self.flush_model()
        bodies = [{
            "message_id": message.uuid, "status": "done" if result.status == ACKNOWLEDGED else "error",
            "permanent": result.status == PERMANENT, "reason": result.reason or None,
            "remote_model": result.remote_model, "remote_ref": result.remote_ref,
        } for message, result, _moved in replies]
        uid = self.env.uid
        self.env.cr.execute(SQL(
            "INSERT INTO sync_response (message_uuid, message_id, system_id, status, permanent, reason, "
            "remote_model, remote_ref, body, received_at, result, channel, create_uid, create_date, write_uid, "
            "write_date) "
            "SELECT v.message_uuid, v.message_id, v.system_id, v.status, v.permanent, v.reason, v.remote_model, "
            "v.remote_ref, v.body::jsonb, %(now)s, v.result, 'transport', %(uid)s, %(now)s, %(uid)s, %(now)s "
            "FROM unnest(%(uuids)s::varchar[], %(ids)s::int[], %(systems)s::int[], %(statuses)s::varchar[], "
            "%(permanent)s::bool[], %(reasons)s::text[], %(remote_models)s::varchar[], %(remote_refs)s::varchar[], "
            "%(bodies)s::text[], %(results)s::varchar[]) AS v(message_uuid, message_id, system_id, status, permanent, "
            "reason, remote_model, remote_ref, body, result)",
            now=now, uid=uid,
            uuids=[body["message_id"] for body in bodies],
            ids=[message.id for message, _r, _m in replies],
            systems=[message.system_id for message, _r, _m in replies],
            statuses=[body["status"] for body in bodies],
            permanent=[body["permanent"] for body in bodies],
            reasons=[body["reason"] for body in bodies],
            remote_models=[body["remote_model"] for body in bodies],
            remote_refs=[body["remote_ref"] for body in bodies],
            bodies=[json.dumps(body) for body in bodies],
            results=["applied" if moved else "duplicate" for _m, _r, moved in replies],
        ))
        self.invalidate_model()

    @api.model
    def _receive(self, system, ack):
        """Record an acknowledgement of ``system`` and move its message; return applied, duplicate or unknown.

        The message is found by its id (``uuid``) among ``system``'s, never by
        message type: what the acknowledgement moves, and the binding it
        stores, are those of the message's own data type and record.
        """
        message = self.env["sync.message"].sudo().search(
            [("uuid", "=", ack.get("message_id")), ("system_id", "=", system.id)], limit=1
        )
        if message:
            self.env.cr.execute("SELECT id FROM sync_message WHERE id = %s FOR UPDATE", [message.id])
            message.invalidate_recordset()
        if not message:
            result = "unknown"
        elif message.state not in states.AWAITING_ACK and not (
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
