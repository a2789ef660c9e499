import json
import logging
import uuid

import psycopg2.errors

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.tools import SQL

from odoo.addons.sync_base import compat
from odoo.addons.sync_base.lib import envelope as envelope_lib
from odoo.addons.sync_mapping.models.sync_data_type import SyncUnresolvedReference

from ..lib.inbound import parse_relay_sources
from .base import Origins

_logger = logging.getLogger(__name__)

# errors another try can get past: the sender is told "permanent": false (a unique violation under
# repeatable read is a concurrent transaction that inserted the same key first)
TRANSIENT_DB_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
    psycopg2.errors.QueryCanceled,
    psycopg2.errors.UniqueViolation,
)
PERMANENT_ERRORS = (UserError, ValidationError, AccessError, MissingError, psycopg2.IntegrityError,
                    psycopg2.DataError)


class InboundRetry(UserError):
    """A received envelope that cannot be applied yet, but may be later: the sender retries it."""


class SyncInboundMessage(models.Model):
    """One envelope received from a system, and what became of it.

    Keyed by the calling system and the envelope ``id``: a replay of an
    applied envelope is answered again from here and applied once.
    """

    _name = "sync.inbound.message"
    _description = "Synchronization Incoming Message"
    _order = "id desc"
    _rec_name = "message_uuid"

    message_uuid = fields.Char(string="Message ID", required=True, readonly=True)
    system_id = fields.Many2one("sync.system", string="Calling System", required=True, readonly=True,
                                ondelete="cascade", index=True)
    company_id = fields.Many2one(related="system_id.company_id", store=True)
    origin = fields.Char(readonly=True, help="The envelope's source: the system the document comes from.")
    message_type = fields.Char(readonly=True)
    operation = fields.Selection([("upsert", "Upsert"), ("delete", "Delete")], readonly=True)
    remote_record = fields.Char(readonly=True, help="The record at the origin: <source>/<model>/<id>.")
    data_type_id = fields.Many2one("sync.data.type", readonly=True, ondelete="set null")
    envelope = fields.Text(readonly=True)
    fingerprint = fields.Char(readonly=True, help="SHA-256 of the envelope: tells a replay from a conflict.")
    state = fields.Selection(
        [("done", "Done"), ("retry", "Failed, to retry"), ("failed", "Failed")],
        required=True, default="retry", readonly=True, index=True,
    )
    error = fields.Text(readonly=True)
    res_model = fields.Char(string="Applied to Model", readonly=True)
    res_id = fields.Integer(string="Applied to Record", readonly=True)
    attempt_count = fields.Integer(readonly=True, default=0)
    received_at = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now, index=True)
    applied_at = fields.Datetime(readonly=True)
    http_status = fields.Integer(string="HTTP Status", readonly=True)
    answer = fields.Json(readonly=True, help="The answer given, given again to a replay.")
    envelope_pretty = fields.Text(compute="_compute_envelope_pretty", string="Envelope (formatted)")
    answer_pretty = fields.Text(compute="_compute_answer_pretty", string="Answer Sent")
    record_name = fields.Char(
        compute="_compute_record_name", string="Record",
        help="The local record it was applied to, by its name when you may read it; else the record at the "
             "origin.")

    compat.declare_constraints(locals(), [
        ("system_uuid_unique", "unique(system_id, message_uuid)", "A system sends each message ID once."),
    ])

    @api.depends("envelope")
    def _compute_envelope_pretty(self):
        for message in self:
            message.envelope_pretty = (
                json.dumps(json.loads(message.envelope), indent=2, ensure_ascii=False) if message.envelope else False
            )

    @api.depends("answer", "http_status")
    def _compute_answer_pretty(self):
        for message in self:
            message.answer_pretty = (
                f"HTTP {message.http_status or '?'}\n"
                + json.dumps(message.answer, indent=2, ensure_ascii=False) if message.answer else False
            )

    @api.depends("res_model", "res_id", "remote_record")
    @api.depends_context("uid")
    def _compute_record_name(self):
        # read as the current user: a name is shown only to who may read its record, else model and id
        for model, messages in self.grouped(lambda m: m.res_model if m.res_id else False).items():
            names = {}
            if model and model in self.env:
                records = self.env[model].browse(messages.mapped("res_id")).exists()
                names = {record.id: record.display_name for record in records._filtered_access("read")}
            for message in messages:
                if not model:
                    message.record_name = message.remote_record
                else:
                    message.record_name = names.get(message.res_id) or f"{model},{message.res_id}"

    # ------------------------------------------------------------------
    # Receiving
    # ------------------------------------------------------------------
    @api.model
    def _receive_envelopes(self, system, items):
        """Apply received envelopes of ``system``, each alone; return ``[(http status, answer)]`` in order.

        A serialization failure while recording an envelope (the same
        envelope arriving at once through another request) is not caught:
        the request starts again from a fresh snapshot and answers it as a
        replay.
        """
        return [self._receive_one(system, item) for item in items]

    def _answer(self, message_id, status, permanent=False, reason=None, record=None):
        return {
            "message_id": message_id,
            "status": status,
            "permanent": bool(permanent) if status == "error" else False,
            "reason": reason,
            "remote_model": record._name if record else None,
            "remote_ref": str(record.id) if record else None,
        }

    def _receive_one(self, system, item):
        message_id = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else None
        try:
            envelope = envelope_lib.validate(item)
        except envelope_lib.EnvelopeError as exc:
            _logger.info("Refused an envelope of %s: %s", system.code, exc)
            answer = self._answer(message_id, "error", permanent=True, reason=str(exc))
            return self._keep_refused(system, item, message_id, answer)
        # ids are UUIDs: one id whatever its case
        envelope["id"] = envelope["id"].lower()
        fingerprint = envelope_lib.fingerprint(envelope)
        existing = self.sudo().search([("system_id", "=", system.id), ("message_uuid", "=", envelope["id"])])
        if existing and (existing.fingerprint != fingerprint or existing.state in ("done", "failed")):
            return existing._answer_replay(fingerprint)
        if not existing:
            existing = self._record_received(system, envelope, fingerprint)
        if not existing:
            # removed by the vacuum between the search and the insert: the sender tries again
            return 503, self._answer(envelope["id"], "error", reason=_("Received at once twice; send it again."))
        return existing._apply_received(system, envelope)

    def _answer_replay(self, fingerprint):
        """``(status, answer)`` for an envelope received again: the answer given before, or a conflict (409)
        when the body differs."""
        self.ensure_one()
        if self.fingerprint != fingerprint:
            return 409, self._answer(
                self.message_uuid, "error", permanent=True,
                reason=_("Message %(id)s was received before with a different body.", id=self.message_uuid),
            )
        return self.http_status, self.answer

    def _keep_refused(self, system, item, message_id, answer):
        """Keep an envelope refused as invalid (422), so that it shows among the incoming messages, when it
        has an id to keep it by; a replay gets the same answer, another body with that id a 409."""
        if not message_id:
            return 422, answer  # no id to keep it by
        try:
            message_uuid = str(uuid.UUID(message_id))
            fingerprint = envelope_lib.fingerprint(dict(item, id=message_uuid))
        except (ValueError, TypeError):
            return 422, answer  # not a UUID, or not even canonical JSON
        if message_uuid != message_id.lower():
            # an id in another spelling ({...}, urn:uuid:, no dashes) is itself what is wrong: a resend that
            # spells it right must not be answered from this one
            return 422, answer
        answer["message_id"] = message_uuid
        existing = self.sudo().search([("system_id", "=", system.id), ("message_uuid", "=", message_uuid)])
        if existing:
            return existing._answer_replay(fingerprint)
        self.env["sync.inbound.message"].flush_model()
        now = fields.Datetime.now()
        self.env.cr.execute(SQL(
            "INSERT INTO sync_inbound_message (message_uuid, system_id, company_id, envelope, fingerprint, state, "
            "error, http_status, answer, attempt_count, received_at, create_uid, create_date, write_uid, write_date) "
            "VALUES (%(uuid)s, %(system)s, %(company)s, %(envelope)s, %(fingerprint)s, 'failed', %(error)s, 422, "
            "%(answer)s::jsonb, 1, %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s) "
            "ON CONFLICT (system_id, message_uuid) DO NOTHING",
            uuid=message_uuid, system=system.id, company=system.company_id.id or None,
            envelope=envelope_lib.dumps(item), fingerprint=fingerprint, error=answer["reason"],
            answer=json.dumps(answer), now=now, uid=self.env.uid,
        ))
        return 422, answer

    def _record_received(self, system, envelope, fingerprint):
        """Insert the received envelope; one at once of two concurrent requests gets past this.

        ``ON CONFLICT DO NOTHING`` in a repeatable-read transaction raises a
        serialization failure when another transaction inserted the same key
        since this one started: Odoo then runs the request again, and the
        replay is answered from the row the other request wrote.
        """
        self.env["sync.inbound.message"].flush_model()
        now = fields.Datetime.now()
        self.env.cr.execute(SQL(
            "INSERT INTO sync_inbound_message (message_uuid, system_id, company_id, origin, message_type, operation, "
            "remote_record, envelope, fingerprint, state, attempt_count, received_at, create_uid, create_date, "
            "write_uid, write_date) VALUES (%(uuid)s, %(system)s, %(company)s, %(origin)s, %(type)s, %(operation)s, "
            "%(remote)s, %(envelope)s, %(fingerprint)s, 'retry', 0, %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s) "
            "ON CONFLICT (system_id, message_uuid) DO NOTHING RETURNING id",
            uuid=envelope["id"], system=system.id, company=system.company_id.id or None, origin=envelope["source"],
            type=envelope["type"], operation=envelope["operation"], remote=self._remote_ref(envelope),
            envelope=envelope_lib.dumps(envelope), fingerprint=fingerprint, now=now, uid=self.env.uid,
        ))
        row = self.env.cr.fetchone()
        return self.sudo().browse(row[0] if row else [])

    @api.model
    def _remote_ref(self, envelope):
        """How the calling system's bindings name the record: ``<source>/<model>/<id>``."""
        record = envelope["record"]
        return f"{envelope['source']}/{record['model']}/{record['id']}"

    def _apply_received(self, system, envelope):
        """Apply this received envelope in a savepoint and record the outcome; return ``(status, answer)``."""
        self.ensure_one()
        record = None
        try:
            with self.env.cr.savepoint():
                data_type, record = self._apply_envelope(system, envelope)
            status, state, answer = 200, "done", self._answer(envelope["id"], "done", record=record)
        except TRANSIENT_DB_ERRORS as exc:
            data_type = None
            reason = _("A concurrent update got in the way (%(error)s); send it again.",
                       error=type(exc).__name__)
            status, state, answer = 503, "retry", self._answer(envelope["id"], "error", reason=reason)
        except (InboundRetry, SyncUnresolvedReference) as exc:
            # a reference to a record not here yet is a passing condition: the sender retries on its delays
            # until it arrives or its attempts run out, never a refusal for good
            data_type = None
            status, state, answer = 503, "retry", self._answer(envelope["id"], "error", reason=str(exc.args[0]))
        except PERMANENT_ERRORS as exc:
            data_type = None
            reason = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
            status, state, answer = 422, "failed", self._answer(envelope["id"], "error", permanent=True,
                                                                 reason=reason)
        except psycopg2.Error:
            raise  # the transaction itself is in trouble (read-only, closed...): Odoo handles the request
        except Exception as exc:
            _logger.exception("Applying envelope %s of %s failed", envelope["id"], system.code)
            data_type = None
            status, state, answer = 422, "failed", self._answer(
                envelope["id"], "error", permanent=True, reason=f"{type(exc).__name__}: {exc}")
        if state != "done":
            _logger.info("Envelope %s of %s not applied (%s): %s", envelope["id"], system.code, status,
                         answer["reason"])
        self.write({
            "state": state,
            "http_status": status,
            "answer": answer,
            "error": answer["reason"] if state != "done" else False,
            "attempt_count": self.attempt_count + 1,
            "applied_at": fields.Datetime.now() if state == "done" else False,
            "data_type_id": data_type.id if data_type else self.data_type_id.id,
            "res_model": record._name if record else False,
            "res_id": record.id if record else False,
        })
        return status, answer

    def _apply_envelope(self, system, envelope):
        """Check where the envelope may come from and apply it; return ``(data type, local record)``.

        Override to apply other operations; raise :class:`InboundRetry` for a
        failure that another try can get past, a ``UserError`` for one it cannot.
        A reference the receiver cannot resolve yet
        (``sync_mapping``'s ``SyncUnresolvedReference``) is answered like
        :class:`InboundRetry`: 503, ``"permanent": false``, naming the record.
        """
        source = envelope["source"]
        if source != system.code and source not in parse_relay_sources(system.relay_sources):
            raise UserError(_("System %(system)s may not send documents of origin %(origin)s: only its own code or "
                              "one of its relay sources.", system=system.code, origin=source))
        data_type = self.env["sync.data.type"].sudo()._inbound_data_type(system, envelope["type"])
        if not data_type:
            raise UserError(_("No enabled data type accepts messages of type %(type)s from %(system)s.",
                              type=envelope["type"], system=system.code))
        if not system.user_id:
            raise InboundRetry(_("System %(system)s has no inbound user to apply documents with.",
                                 system=system.code))
        origins = system | self.env["sync.system"].sudo().search([("code", "=", source)])
        # The inbound user applies, never the caller nor the superuser: the data type in the inbound user's
        # environment (with_user leaves superuser mode) is what _upsert and _apply_inbound_deletion take as the
        # user whose rights and record rules every record of the document goes through; they read the
        # configuration themselves, as the suite, so the inbound user needs no right on it (not even
        # Synchronization / User, which would show it every queued envelope).
        applier = data_type.with_user(system.user_id).with_context(sync_origin_system_ids=Origins(origins.ids))
        if system.company_id:
            applier = applier.with_company(system.company_id)
        remote_ref = (envelope["record"]["model"], self._remote_ref(envelope))
        if envelope["operation"] == "delete":
            return data_type, applier._apply_inbound_deletion(system, envelope["payload"], remote_ref)
        return data_type, applier._upsert([envelope["payload"]], system, [remote_ref])

    # ------------------------------------------------------------------
    # Housekeeping and user actions
    # ------------------------------------------------------------------
    @api.model
    def _vacuum(self):
        """Remove received envelopes kept longer than the setting (days); return how many."""
        # never below a day (the range of the setting): a replay must find what it replays
        days = self.env["res.config.settings"]._sync_queue_param("sync_queue.inbound_keep_days")
        old = self.sudo().search([("received_at", "<", fields.Datetime.subtract(fields.Datetime.now(), days=days))],
                                 limit=10000)
        count = len(old)
        old.unlink()
        return count

    def action_retry(self):
        """Apply again incoming messages that failed on a transient error (managers only)."""
        if not self.env.user.has_group("sync_base.group_sync_manager"):
            raise AccessError(_("Only synchronization managers can apply incoming messages again."))
        retried = 0
        for message in self.filtered(lambda m: m.state == "retry" and m.system_id.active
                                     and not m.system_id.paused):
            message.sudo()._apply_received(message.system_id, json.loads(message.envelope))
            retried += 1
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": _("%(count)s incoming message(s) applied again.", count=retried),
                "type": "success" if all(m.state == "done" for m in self) else "warning",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_open_record(self):
        """Open the local record the message was applied to, if it still exists and the user may read it."""
        self.ensure_one()
        return self.env["sync.message"]._open_record_action(self.res_model, self.res_id)
