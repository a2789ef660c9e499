import json
import uuid
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from odoo.addons.sync_base import compat

from ..lib import actions as actions_lib
from ..lib import states

# a message held back by a reference is looked at again after this many seconds
HOLD_SECONDS = 5
# storing a delivered batch's results is retried this many times (about 40 s when the database is gone)
STORE_ATTEMPTS = 8
# candidates read per claimed message: room for later messages of records whose earlier one is unfinished
CLAIM_WINDOW = 2
# what identifies a message and what it sends: written once, by the queue itself
FROZEN_FIELDS = frozenset({"uuid", "system_id", "data_type_id", "model", "res_id", "operation", "envelope"})


def unsent(alias=None):
    """The condition of a message never claimed yet, which later changes of its record coalesce into
    (``sync_message_unsent_uniq``); its columns prefixed with ``alias`` when given."""
    prefix = SQL("%s.", SQL.identifier(alias)) if alias else SQL("")
    return SQL("%(p)sstate IN %(unsent)s AND %(p)sattempt_count = 0", p=prefix, unsent=states.UNSENT)


UNSENT = unsent()


class SyncMessage(models.Model):
    """One message to one system: the send queue.

    The envelope is built at the first attempt and frozen: every resend
    carries it unchanged, and receivers deduplicate by its ``id`` (``uuid``).
    """

    _name = "sync.message"
    _description = "Synchronization Message"
    _order = "id desc"
    _rec_name = "uuid"

    uuid = fields.Char(
        string="Message ID", required=True, readonly=True, copy=False,
        default=lambda self: str(uuid.uuid4()),
    )
    # system_id and model are indexed by sync_message_record_idx and sync_message_due_idx (see init)
    system_id = fields.Many2one("sync.system", required=True, readonly=True, ondelete="restrict")
    company_id = fields.Many2one(related="system_id.company_id", store=True)
    data_type_id = fields.Many2one("sync.data.type", required=True, readonly=True, ondelete="restrict", index=True)
    message_type = fields.Char(related="data_type_id.message_type")
    model = fields.Char(required=True, readonly=True)
    res_id = fields.Integer(string="Record ID", required=True, readonly=True)
    record_name = fields.Char(readonly=True)
    operation = fields.Selection([("upsert", "Upsert"), ("delete", "Delete")], required=True, readonly=True)
    deletion_info = fields.Json(readonly=True, help="What the other side needs to find a deleted record.")
    # not prefetched: reading the state of a batch must not load every envelope of it
    envelope = fields.Text(readonly=True, prefetch=False, help="The frozen envelope, sent unchanged on every attempt.")
    state = fields.Selection(states.STATES, required=True, default="pending", readonly=True, index=True)
    attempt_count = fields.Integer(readonly=True, default=0)
    # due from its creation: a message created without one would never be claimed
    next_attempt_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    lease_until = fields.Datetime(readonly=True)
    recovered = fields.Boolean(readonly=True, help="Its worker died while sending it: it is tried alone.")
    last_error = fields.Text(readonly=True)
    # stored to group by: the hot paths write last_error in SQL, where the trigger of init() computes it alike
    error_summary = fields.Char(string="Error", compute="_compute_error_summary", store=True, readonly=True,
                                help="The first line of the last error.")
    failure_kind = fields.Selection(
        states.FAILURE_KINDS, readonly=True,
        help="Why it failed: after passing failures, Retry sends the identical envelope again once they are over; "
             "when it could not be built or was refused for good, Requeue builds a new message from the record "
             "as it is now, after a fix of the mapping.")
    replaced_by_id = fields.Many2one(
        "sync.message", string="Replaced By", readonly=True, ondelete="set null", index="btree_not_null",
        help="The message Requeue built from the record in its place.")
    replaced_ids = fields.One2many("sync.message", "replaced_by_id", string="Replaces", readonly=True)
    waiting_reason = fields.Char(readonly=True)
    reference_keys = fields.Json(readonly=True, help="[model, id] of the records its document references.")
    sent_at = fields.Datetime(readonly=True)
    acked_at = fields.Datetime(readonly=True)
    send_duration = fields.Float(
        string="Send Duration (s)", readonly=True, digits=(16, 3),
        help="The call that delivered it: its share of the batch's call, in seconds.  A first attempt "
             "acknowledged in the call is kept here only; the attempt log keeps every other attempt.")
    attempt_ids = fields.One2many("sync.message.attempt", "message_id", string="Attempts", readonly=True)
    response_ids = fields.One2many("sync.response", "message_id", string="Responses", readonly=True)
    envelope_pretty = fields.Text(compute="_compute_envelope_pretty", string="Envelope (formatted)")

    compat.declare_constraints(locals(), [("uuid_unique", "unique(uuid)", "The message ID must be unique.")])

    def init(self):
        # error_summary of the rows the hot paths write in SQL, as actions_lib.error_summary computes it
        length = actions_lib.SUMMARY_LENGTH
        self.env.cr.execute(SQL(f"""
            CREATE OR REPLACE FUNCTION sync_message_error_summary() RETURNS trigger AS $$
            DECLARE line text;
            BEGIN
                line := btrim(split_part(btrim(NEW.last_error, E' \\t\\r\\n'), E'\\n', 1), E' \\t\\r');
                IF char_length(line) > {int(length)} THEN
                    line := left(line, {int(length) - 1}) || U&'\\2026';
                END IF;
                NEW.error_summary := NULLIF(line, '');
                RETURN NEW;
            END $$ LANGUAGE plpgsql
        """))
        self.env.cr.execute(SQL(
            "DROP TRIGGER IF EXISTS sync_message_error_summary_insert ON sync_message; "
            "CREATE TRIGGER sync_message_error_summary_insert BEFORE INSERT ON sync_message FOR EACH ROW "
            "WHEN (NEW.last_error IS NOT NULL) EXECUTE FUNCTION sync_message_error_summary(); "
            "DROP TRIGGER IF EXISTS sync_message_error_summary_update ON sync_message; "
            "CREATE TRIGGER sync_message_error_summary_update BEFORE UPDATE OF last_error ON sync_message "
            "FOR EACH ROW WHEN (NEW.last_error IS DISTINCT FROM OLD.last_error) "
            "EXECUTE FUNCTION sync_message_error_summary()"
        ))
        # room on each page for the next version of a row: freezing an envelope and keeping a lease alive then
        # write it beside the old one without touching the indexes (a HOT update); the other moves change the
        # state, which every partial index names
        self.env.cr.execute(SQL("ALTER TABLE sync_message SET (fillfactor = 70)"))
        self.env.cr.execute(SQL(
            "CREATE INDEX IF NOT EXISTS sync_message_due_idx ON sync_message (system_id, next_attempt_at, id) "
            "WHERE state IN %s", states.DUE,
        ))
        self.env.cr.execute(SQL(
            "CREATE INDEX IF NOT EXISTS sync_message_record_idx ON sync_message (system_id, model, res_id, id)"
        ))
        # a message to send is due from its creation: the claim walks sync_message_due_idx in due order
        self.env.cr.execute(SQL(
            "UPDATE sync_message SET next_attempt_at = create_date WHERE next_attempt_at IS NULL "
            "AND state IN %s", states.DUE,
        ))
        self.env.cr.execute(SQL(
            "CREATE INDEX IF NOT EXISTS sync_message_recovered_idx ON sync_message (system_id, next_attempt_at, id) "
            "WHERE recovered AND state IN %s", states.DUE,
        ))
        # one unsent message per record, operation and system, even when two transactions queue it at once;
        # "unsent" is "never claimed", whether it waits for an earlier message or not
        self.env.cr.execute(SQL(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'sync_message' "
            "AND indexname = 'sync_message_unsent_uniq'"
        ))
        row = self.env.cr.fetchone()
        if row and "attempt_count" not in row[0]:
            self.env.cr.execute(SQL("DROP INDEX sync_message_unsent_uniq"))
        self.env.cr.execute(SQL(
            "UPDATE sync_message m SET state = 'cancelled' WHERE %(m_unsent)s "
            "AND EXISTS (SELECT 1 FROM sync_message o WHERE %(o_unsent)s "
            "AND o.system_id = m.system_id AND o.data_type_id = m.data_type_id AND o.model = m.model "
            "AND o.res_id = m.res_id AND o.operation = m.operation AND o.id < m.id)",
            m_unsent=unsent("m"), o_unsent=unsent("o"),
        ))
        self.env.cr.execute(SQL(
            "CREATE UNIQUE INDEX IF NOT EXISTS sync_message_unsent_uniq ON sync_message "
            "(system_id, data_type_id, model, res_id, operation) WHERE %s", UNSENT,
        ))
        # the claim's lookup of a record's first unfinished message, never walking through its history
        self.env.cr.execute(SQL(
            "CREATE INDEX IF NOT EXISTS sync_message_open_idx ON sync_message (system_id, model, res_id, id) "
            "WHERE state NOT IN %s", states.FINAL,
        ))

    @api.depends("envelope")
    def _compute_envelope_pretty(self):
        for message in self:
            message.envelope_pretty = (
                json.dumps(json.loads(message.envelope), indent=2, ensure_ascii=False) if message.envelope else False
            )

    @api.depends("last_error")
    def _compute_error_summary(self):
        for message in self:
            message.error_summary = actions_lib.error_summary(message.last_error)

    @api.depends("uuid", "model", "res_id", "operation")
    def _compute_display_name(self):
        for message in self:
            message.display_name = f"{message.operation} {message.record_name or message.model}: {message.uuid}"

    # ------------------------------------------------------------------
    # Recovery and housekeeping
    # ------------------------------------------------------------------
    @api.model
    def _cron_resend(self):
        """Overdue acknowledgements are sent again; messages of a dead worker are recovered after their lease."""
        self.env.flush_all()
        now = fields.Datetime.now()
        cr = self.env.cr
        cr.execute(SQL(
            "UPDATE sync_message m SET state = 'retry', next_attempt_at = %(now)s, "
            "last_error = %(reason)s FROM sync_system s WHERE s.id = m.system_id AND m.state = 'sent' "
            "AND m.sent_at + make_interval(secs => s.ack_timeout) < %(now)s RETURNING m.id",
            now=now, reason=_("No acknowledgement in time: sent again."),
        ))
        overdue = [row[0] for row in cr.fetchall()]
        cr.execute(SQL(
            "UPDATE sync_message SET state = 'retry', recovered = true, next_attempt_at = %(now)s, "
            "last_error = %(reason)s WHERE state = 'sending' AND lease_until < %(now)s RETURNING id, attempt_count, "
            "system_id",
            now=now, reason=_("Its worker stopped while sending it: recovered after its lease."),
        ))
        recovered = cr.fetchall()
        # the attempt log keeps what became of the attempt (the delivery that follows clears last_error): said
        # of that attempt, not of a send that an acknowledgement arriving first may make unnecessary
        self._insert_attempts([(message_id, "transient", _("No acknowledgement in time.")) for message_id in overdue]
                              + [(row[0], "transient", _("Its worker stopped while sending it."))
                                 for row in recovered], 0.0, now)
        for message_id, attempts, system_id in recovered:
            if attempts >= self.env["sync.system"].browse(system_id).max_attempts:
                self.browse(message_id).write({
                    "state": "failed",
                    "last_error": _("Its worker stopped while sending it, %(count)s times.", count=attempts),
                })
        self.invalidate_model()
        compat.cron_progress(self.env, len(overdue) + len(recovered), 0)

    @api.model
    def _cron_vacuum(self):
        """Remove done and cancelled messages, their attempts and responses, and finished comparisons, after
        the configured days, and received envelopes after theirs (``sync_queue.inbound_keep_days``)."""
        days = self.env["res.config.settings"]._sync_queue_param("sync_queue.vacuum_days")
        limit_date = fields.Datetime.now() - timedelta(days=days)
        old = self.search([("state", "in", ("done", "cancelled")), ("write_date", "<", limit_date)], limit=10000)
        count = len(old)
        old.unlink()
        self.env["sync.response"].search([("received_at", "<", limit_date), ("message_id", "=", False)]).unlink()
        inbound = self.env["sync.inbound.message"]._vacuum()
        # comparisons are kept as long as finished messages
        comparisons = self.env["sync.compare.run"]._vacuum()
        more = count >= 10000 or inbound >= 10000 or comparisons >= 1000
        compat.cron_progress(self.env, count + inbound + comparisons, 1 if more else 0)

    # ------------------------------------------------------------------
    # User actions
    # ------------------------------------------------------------------
    @api.model
    def _trigger_send(self):
        """Wake the active send schedulers right after this transaction commits."""
        for xmlid in states.SEND_CRONS:
            # the user's own rights do not reach ir.cron: waking a scheduler is the queue's business
            cron = self.sudo().env.ref(xmlid, raise_if_not_found=False)
            if cron and cron.active:
                cron._trigger()

    @api.model
    def _action_sync_now(self, records):
        """Queue ``records`` for every enabled data type of their model, whatever its trigger, and send soon."""
        if not self.env.user.has_group("sync_base.group_sync_user"):
            raise AccessError(_("Only synchronization users can synchronize records."))
        records.check_access("read")
        count = 0
        for data_type in self.env["sync.data.type"].sudo().search(
            [("model_name", "=", records._name), ("enabled", "=", True)]
        ):
            count += self._queue_records(data_type, data_type._filter_matching(records.sudo()), "upsert")
        self._trigger_send()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": _("%(count)s message(s) queued.", count=count), "type": "success"},
        }

    def _check_queue_rights(self):
        """Synchronization users act on the queue through its buttons only (their access is read-only, so that
        nobody rewrites a message over RPC); return the messages as superuser once the user may see them."""
        if not self.env.user.has_group("sync_base.group_sync_user"):
            raise AccessError(_("Only synchronization users can retry, cancel or requeue messages."))
        self.check_access("read")
        return self.sudo()

    def _skip_reason_texts(self):
        """The words of :mod:`..lib.actions`' skip reasons."""
        return {
            actions_lib.DONE: _("already done"),
            actions_lib.SENDING: _("being sent"),
            actions_lib.CANCELLED: _("cancelled (Requeue builds it again)"),
            actions_lib.DUE: _("already due"),
            actions_lib.GONE: _("record gone"),
            actions_lib.LEFT: _("record no longer matches the data type"),
            actions_lib.NOT_RECEIVED: _("system no longer receives the data type"),
            actions_lib.ELSEWHERE: _("record not the system's (another company, or never sent there)"),
        }

    @api.model
    def _action_report(self, verb, outcomes, skipped_names=()):
        """The notification of a bulk action: ``"3 messages retried, 1 skipped: already done"``, a warning
        when some were skipped; the list or form reloads after it."""
        acted, skips = actions_lib.tally(outcomes)
        if verb == "retry":
            message = (_("%(count)s message retried", count=acted) if acted == 1 else
                       _("%(count)s messages retried", count=acted))
        elif verb == "cancel":
            message = (_("%(count)s message cancelled", count=acted) if acted == 1 else
                       _("%(count)s messages cancelled", count=acted))
        else:
            message = (_("%(count)s message requeued", count=acted) if acted == 1 else
                       _("%(count)s messages requeued", count=acted))
        if skips:
            words = self._skip_reason_texts()
            total = sum(count for _reason, count in skips)
            reasons = (words[skips[0][0]] if len(skips) == 1 else
                       ", ".join(f"{count} {words[reason]}" for reason, count in skips))
            message = _("%(done)s, %(count)s skipped: %(reasons)s", done=message, count=total, reasons=reasons)
            if skipped_names:
                message = _("%(message)s (%(names)s)", message=message, names=", ".join(skipped_names[:5]))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning" if skips else "success",
                "message": message,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_retry(self):
        """Send the identical frozen envelope again, as soon as possible (after a passing outage); a message
        never claimed yet is made due now.  Returns a notification counting what was retried and skipped."""
        messages = self._check_queue_rights()
        now = fields.Datetime.now()
        outcomes = {m: actions_lib.retry_outcome(m.state, m.attempt_count) for m in messages}
        # never claimed and still to send: due now, and still among the messages later changes merge into
        unsent = messages.filtered(lambda m: outcomes[m] == actions_lib.ACTED and
                                   states.is_unsent(m.state, m.attempt_count))
        unsent.write({"next_attempt_at": now})
        retriable = messages.filtered(lambda m: outcomes[m] == actions_lib.ACTED) - unsent
        retriable.write({"state": "retry", "next_attempt_at": now, "recovered": False, "failure_kind": False})
        if unsent or retriable:
            self._trigger_send()
        return self._action_report("retry", list(outcomes.values()))

    def action_cancel(self):
        """Give up messages that are not done nor being sent; returns a notification counting them."""
        messages = self._check_queue_rights()
        outcomes = {m: actions_lib.cancel_outcome(m.state) for m in messages}
        messages.filtered(lambda m: outcomes[m] == actions_lib.ACTED)._cancel_by_user(
            _("Cancelled by %(user)s.", user=self.env.user.name))
        return self._action_report("cancel", list(outcomes.values()))

    def _cancel_by_user(self, note):
        """Cancel these messages for a user's action, ``note`` saying who: the note is information kept in the
        form, not an error: no failure kind (the content-failure filter) and no Error column nor group."""
        if not self:
            return
        self.write({"state": "cancelled", "last_error": note, "failure_kind": False})
        # a second UPDATE: the trigger of last_error set error_summary from the note in the first
        self.flush_recordset(["last_error", "error_summary"])
        self.env.cr.execute(SQL("UPDATE sync_message SET error_summary = NULL WHERE id = ANY(%s)", self.ids))
        self.invalidate_recordset(["error_summary"])

    def action_requeue(self):
        """Queue a new message to the same system, built from the record as it is now (after a mapping fix;
        a deletion from what it kept of the record); the message it replaces links to it (``replaced_by_id``)
        and is cancelled unless it is done or being sent.  A message never claimed yet is built when it goes:
        it is only made due now.  Returns a notification counting what was requeued and skipped, and why."""
        messages = self._check_queue_rights()
        unsent = messages.filtered(lambda m: states.is_unsent(m.state, m.attempt_count))
        unsent.write({"next_attempt_at": fields.Datetime.now()})
        outcomes = dict.fromkeys(unsent, actions_lib.ACTED)
        replaced = messages.browse()
        # one queueing per data type, system and operation, not one per message
        for (data_type, system, operation), group in (messages - unsent).grouped(
                lambda m: (m.data_type_id, m.system_id, m.operation)).items():
            Model = self.env[data_type.model_name]
            existing = matching = Model.browse()
            if operation == "upsert":
                # a record that left the data type (its domain, its conditions) is not sent again by hand either
                existing = Model.browse(group.mapped("res_id")).exists()
                matching = data_type._filter_matching(existing)
                self._queue_records(data_type, matching, "upsert", systems=system)
            else:
                self._queue_records(data_type, Model, "delete", ids=group.mapped("res_id"), systems=system,
                                    deletion_info={m.res_id: m.deletion_info for m in group})
            # queued, or merged into a message of the record still to send; not when the record is gone, the
            # system no longer receives the data type or the record left its company: those stay as they are
            self.flush_model()
            self.env.cr.execute(SQL(
                "SELECT res_id, id FROM sync_message WHERE system_id = %s AND data_type_id = %s AND model = %s "
                "AND res_id = ANY(%s) AND operation = %s AND %s",
                system.id, data_type.id, data_type.model_name, group.mapped("res_id"), operation, UNSENT,
            ))
            queued = dict(self.env.cr.fetchall())
            receives = system.active and system in data_type.system_ids
            for message in group:
                if message.res_id in queued:
                    outcomes[message] = actions_lib.ACTED
                    replaced |= message
                    message.replaced_by_id = queued[message.res_id]
                else:
                    outcomes[message] = actions_lib.requeue_skip(
                        operation, message.res_id in existing.ids, message.res_id in matching.ids, receives)
        # what _queue_records superseded (a failed message of the record) reads "Requeued" too: the user did it
        replaced.filtered(lambda m: m.state not in ("done", "sending"))._cancel_by_user(
            _("Requeued by %(user)s.", user=self.env.user.name))
        if unsent or replaced:
            self._trigger_send()
        skipped = messages.filtered(lambda m: outcomes[m] != actions_lib.ACTED)
        return self._action_report("requeue", list(outcomes.values()), skipped.mapped("display_name"))

    def action_open_record(self):
        """Open the message's local record, when it still exists and the user may read it."""
        self.ensure_one()
        return self._open_record_action(self.model, self.res_id)

    @api.model
    def _open_record_action(self, model, res_id):
        """The form of record ``res_id`` of ``model`` as the current user may read it, or a notification
        saying why not (gone, not readable, model not installed); never opened with more rights than the
        user's (shared by the queue's responses and incoming messages)."""
        def notify(message):
            return {"type": "ir.actions.client", "tag": "display_notification",
                    "params": {"type": "warning", "message": message}}

        if not model or not res_id:
            return notify(_("This message names no local record."))
        if model not in self.env:
            return notify(_("The model %(model)s is not installed.", model=model))
        record = self.env[model].browse(res_id)
        if not record.exists():
            return notify(_("The record %(model)s,%(id)s no longer exists.", model=model, id=res_id))
        try:
            record.check_access("read")
        except AccessError:
            return notify(_("You may not read the record %(model)s,%(id)s.", model=model, id=res_id))
        return {"type": "ir.actions.act_window", "res_model": model, "res_id": res_id,
                "views": [(False, "form")], "target": "current"}

    def write(self, vals):
        # the identity and the frozen envelope of a message never change, not even for a manager over RPC:
        # every resend must carry the identical envelope to the same record of the same system
        frozen = FROZEN_FIELDS.intersection(vals)
        if frozen and not self.env.su:
            raise AccessError(_("A message's %(fields)s never change.", fields=", ".join(sorted(frozen))))
        return super().write(vals)
