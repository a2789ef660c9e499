import concurrent.futures
import json
import logging
import time
import uuid
from datetime import datetime, timedelta

import psycopg2.errors

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from odoo.addons.sync_base.lib import envelope as envelope_lib
from odoo.addons.sync_base.lib.results import ACCEPTED, ACKNOWLEDGED, PERMANENT, TransportResult

from ..lib.backoff import next_attempt

_logger = logging.getLogger(__name__)

STATES = [
    ("pending", "Pending"),
    ("waiting", "Waiting"),
    ("sending", "Sending"),
    ("sent", "Sent"),
    ("retry", "Retry"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]
FINAL_STATES = ("done", "failed", "cancelled")
# earlier messages in these states no longer hold a later one back
NOT_BLOCKING = ("done", "failed", "cancelled")
# a message held back by a reference is looked at again after this many seconds
HOLD_SECONDS = 5
# storing a delivered batch's results is retried this many times (about 40 s when the database is gone)
STORE_ATTEMPTS = 8
# candidates read per claimed message: room for later messages of records whose earlier one is unfinished
CLAIM_WINDOW = 2
# what identifies a message and what it sends: written once, by the queue itself
FROZEN_FIELDS = frozenset({"uuid", "system_id", "data_type_id", "model", "res_id", "operation", "envelope"})
# what the hot paths read of a batch (see fetch() in _claim and _apply_results)
CLAIM_FIELDS = ["state", "system_id", "data_type_id", "model", "res_id", "operation", "uuid", "create_date",
                "reference_keys", "deletion_info", "attempt_count"]
RESULT_FIELDS = ["state", "system_id", "model", "res_id", "operation", "attempt_count", "uuid"]


def unsent(alias=None):
    """The condition of a message never claimed yet, which later changes of its record coalesce into
    (``sync_message_unsent_uniq``); its columns prefixed with ``alias`` when given."""
    prefix = SQL("%s.", SQL.identifier(alias)) if alias else SQL("")
    return SQL("%(p)sstate IN ('pending', 'waiting') AND %(p)sattempt_count = 0", p=prefix)


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
    state = fields.Selection(STATES, required=True, default="pending", readonly=True, index=True)
    attempt_count = fields.Integer(readonly=True, default=0)
    # due from its creation: a message created without one would never be claimed
    next_attempt_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    lease_until = fields.Datetime(readonly=True)
    recovered = fields.Boolean(readonly=True, help="Its worker died while sending it: it is tried alone.")
    last_error = fields.Text(readonly=True)
    waiting_reason = fields.Char(readonly=True)
    reference_keys = fields.Json(readonly=True, help="[model, id] of the records its document references.")
    sent_at = fields.Datetime(readonly=True)
    acked_at = fields.Datetime(readonly=True)
    attempt_ids = fields.One2many("sync.message.attempt", "message_id", string="Attempts", readonly=True)
    response_ids = fields.One2many("sync.response", "message_id", string="Responses", readonly=True)
    envelope_pretty = fields.Text(compute="_compute_envelope_pretty", string="Envelope (formatted)")

    _sql_constraints = [("uuid_unique", "unique(uuid)", "The message ID must be unique.")]

    def init(self):
        self.env.cr.execute(SQL(
            "CREATE INDEX IF NOT EXISTS sync_message_due_idx ON sync_message (system_id, next_attempt_at, id) "
            "WHERE state IN ('pending', 'retry', 'waiting')"
        ))
        self.env.cr.execute(SQL(
            "CREATE INDEX IF NOT EXISTS sync_message_record_idx ON sync_message (system_id, model, res_id, id)"
        ))
        # a message to send is due from its creation: the claim walks sync_message_due_idx in due order
        self.env.cr.execute(SQL(
            "UPDATE sync_message SET next_attempt_at = create_date WHERE next_attempt_at IS NULL "
            "AND state IN ('pending', 'retry', 'waiting')"
        ))
        self.env.cr.execute(SQL(
            "CREATE INDEX IF NOT EXISTS sync_message_recovered_idx ON sync_message (system_id, next_attempt_at, id) "
            "WHERE recovered AND state IN ('pending', 'retry', 'waiting')"
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
            "WHERE state NOT IN %s", NOT_BLOCKING,
        ))

    @api.depends("envelope")
    def _compute_envelope_pretty(self):
        for message in self:
            message.envelope_pretty = (
                json.dumps(json.loads(message.envelope), indent=2, ensure_ascii=False) if message.envelope else False
            )

    @api.depends("uuid", "model", "res_id", "operation")
    def _compute_display_name(self):
        for message in self:
            message.display_name = f"{message.operation} {message.record_name or message.model}: {message.uuid}"

    # ------------------------------------------------------------------
    # Queueing
    # ------------------------------------------------------------------
    @api.model
    def _queue_records(self, data_type, records, operation, deletion_info=None, origin_system=None, ids=None,
                       systems=None):
        """Queue messages of ``records`` (or of the deleted ``ids``) for each target system of ``data_type``
        (only those among ``systems`` when given), except the systems in ``origin_system`` (those the change
        came from).

        Coalesces with a message of the same record, system and operation that
        has not been sent yet, and supersedes earlier failed ones.  Returns the
        number of new messages.
        """
        data_type = data_type.sudo()
        ids = list(ids if ids is not None else records.ids)
        if not ids:
            return 0
        only = systems
        systems = data_type.system_ids.filtered(
            lambda s: s.active and s not in (origin_system or ()) and (only is None or s in only))
        if not systems:
            return 0
        names = self._record_names(records) if records else {}
        self.flush_model()
        self.env.cr.execute(SQL(
            "SELECT system_id, res_id FROM sync_message WHERE data_type_id = %s AND model = %s AND res_id = ANY(%s) "
            "AND operation = %s AND %s AND system_id = ANY(%s)",
            data_type.id, data_type.model_name, ids, operation, UNSENT, systems.ids,
        ))
        existing = set(self.env.cr.fetchall())
        next_at = data_type._next_interval_at() if data_type.trigger == "interval" else None
        references = data_type._reference_keys(records) if records and operation == "upsert" else {}
        vals_list = []
        for system in systems:
            reachable = set(ids)
            if records and system.company_id and "company_id" in records._fields:
                reachable = set(data_type._filter_company(records.sudo(), system).ids)
            for res_id in ids:
                if (system.id, res_id) in existing or res_id not in reachable:
                    continue
                vals_list.append({
                    "system_id": system.id,
                    "data_type_id": data_type.id,
                    "model": data_type.model_name,
                    "res_id": res_id,
                    "record_name": names.get(res_id, False),
                    "operation": operation,
                    "deletion_info": (deletion_info or {}).get(res_id),
                    "reference_keys": references.get(res_id) or False,
                    "next_attempt_at": next_at,
                })
        if not vals_list:
            return 0
        self.env.cr.execute(SQL(
            "UPDATE sync_message SET state = 'cancelled', last_error = %s WHERE data_type_id = %s AND model = %s "
            "AND res_id = ANY(%s) AND state = 'failed' AND system_id = ANY(%s)",
            _("Superseded by a later message of the same record."), data_type.id, data_type.model_name, ids,
            systems.ids,
        ))
        return self._insert_messages(vals_list)

    @api.model
    def _record_names(self, records):
        """``{id: label}`` shown on the messages of ``records``: a stored name read in one query where the model
        has one (``complete_name``, else its ``_rec_name``), computing ``display_name`` only where it has not."""
        records = records.sudo()
        for fname in ("complete_name", records._rec_name):
            field = records._fields.get(fname or "")
            if field and field.store and field.type == "char" and not field.translate:
                records.fetch([fname])  # that column only, not every column of the records
                return dict(zip(records.ids, records.mapped(fname), strict=True))
        return {record.id: record.display_name for record in records}

    @api.model
    def _insert_messages(self, vals_list):
        """Insert new messages in one statement: queueing a large backlog through the ORM's ``create`` costs
        more than serializing and sending it.

        Override to give fields added by an extension their values: only the
        columns below are written, the other columns are left NULL.  ``state``
        defaults to ``pending``.  Returns how many were inserted: a message
        that another transaction queued meanwhile is not inserted twice.
        """
        now = fields.Datetime.now()
        uid = self.env.uid
        companies = {
            system.id: system.company_id.id or None
            for system in self.env["sync.system"].sudo().browse({vals["system_id"] for vals in vals_list})
        }

        def column(key, cast=None):
            values = [vals.get(key) or None for vals in vals_list]
            return [cast(value) if value is not None else None for value in values] if cast else values

        self.env.cr.execute(SQL(
            """
            INSERT INTO sync_message (uuid, system_id, company_id, data_type_id, model, res_id, record_name,
                                      operation, deletion_info, reference_keys, next_attempt_at, state,
                                      waiting_reason, last_error, attempt_count, create_uid, create_date, write_uid,
                                      write_date)
            SELECT v.uuid, v.system_id, v.company_id, v.data_type_id, v.model, v.res_id, v.record_name,
                   v.operation, v.deletion_info::jsonb, v.reference_keys::jsonb, coalesce(v.next_attempt_at, %(now)s),
                   -- behind an unfinished message of the same record to the same system: waiting, saying for what
                   CASE WHEN v.state IS NOT NULL THEN v.state WHEN b.uuid IS NOT NULL THEN 'waiting' ELSE 'pending' END,
                   CASE WHEN v.state IS NULL AND b.uuid IS NOT NULL THEN replace(%(hold)s, '{uuid}', b.uuid) END,
                   v.last_error, 0, %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM unnest(%(uuids)s::varchar[], %(systems)s::int[], %(companies)s::int[], %(data_types)s::int[],
                          %(models)s::varchar[], %(res_ids)s::int[], %(names)s::varchar[], %(operations)s::varchar[],
                          %(deletion_info)s::text[], %(reference_keys)s::text[], %(next_at)s::timestamp[],
                          %(states)s::varchar[], %(errors)s::text[])
                AS v(uuid, system_id, company_id, data_type_id, model, res_id, record_name, operation,
                     deletion_info, reference_keys, next_attempt_at, state, last_error)
              LEFT JOIN LATERAL (
                    SELECT e.uuid FROM sync_message e
                     WHERE e.system_id = v.system_id AND e.model = v.model AND e.res_id = v.res_id
                       AND e.state NOT IN %(free)s
                     ORDER BY e.id LIMIT 1) b ON true
            -- a record queued for a system by two transactions at once is one message (sync_message_unsent_uniq)
            ON CONFLICT (system_id, data_type_id, model, res_id, operation) WHERE %(unsent)s DO NOTHING
            """,
            uid=uid, now=now, free=NOT_BLOCKING, unsent=UNSENT,
            hold=_("Waits for message {uuid}, an earlier message of the same record to the same system."),
            uuids=[str(uuid.uuid4()) for _vals in vals_list],
            systems=column("system_id"),
            companies=[companies[vals["system_id"]] for vals in vals_list],
            data_types=column("data_type_id"),
            models=column("model"),
            res_ids=column("res_id"),
            names=column("record_name"),
            operations=column("operation"),
            deletion_info=column("deletion_info", json.dumps),
            reference_keys=column("reference_keys", json.dumps),
            next_at=column("next_attempt_at"),
            states=column("state"),
            errors=column("last_error"),
        ))
        inserted = self.env.cr.rowcount
        self.invalidate_model()
        return inserted

    @api.model
    def _cron_create_queue(self, limit=500):
        """Turn captured changes into messages, ``limit`` at a time.

        Each call reports its progress, so Odoo's cron runs it again at once,
        with a commit in between, while changes remain; the send scheduler is
        triggered after each call that queued something, so a second cron
        worker sends the first messages while the rest are being queued.
        """
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(SQL(
            "DELETE FROM sync_change WHERE id IN (SELECT id FROM sync_change ORDER BY id LIMIT %s "
            "FOR UPDATE SKIP LOCKED) RETURNING id, model, res_id, operation, payload, origin_system_ids",
            limit,
        ))
        rows = sorted(cr.fetchall())
        if rows and self._process_changes(rows):
            self._trigger_send()
        cr.execute(SQL("SELECT count(*) FROM sync_change"))
        remaining = cr.fetchone()[0]
        self.env["ir.cron"]._notify_progress(done=len(rows), remaining=remaining)

    def _process_changes(self, rows):
        """Queue the messages of captured change ``rows``; return how many messages were queued."""
        # the last operation of a record wins: an update after a creation is a creation
        by_record = {}
        for _id, model, res_id, operation, payload, origin in rows:
            previous = by_record.get((model, res_id))
            if previous and previous[0] == "create" and operation == "write":
                operation = "create"
            if previous:
                # a system is spared only when every change came from it: a local edit goes everywhere
                common = set((previous[2] or "").split(",")) & set((origin or "").split(",")) - {""}
                origin = ",".join(sorted(common)) or None
            by_record[(model, res_id)] = (operation, payload, origin)
        groups = {}
        for (model, res_id), (operation, payload, origin) in by_record.items():
            groups.setdefault((model, operation, origin), []).append((res_id, payload))
        DataTypes = self.env["sync.data.type"].sudo()
        queued = 0
        for (model, operation, origin), items in groups.items():
            if model not in self.env:
                continue
            origin_system = self.env["sync.system"].browse([int(i) for i in origin.split(",")]) if origin else None
            for data_type in DataTypes.search([("model_name", "=", model), ("enabled", "=", True),
                                               ("trigger", "!=", "manual")]):
                try:
                    with self.env.cr.savepoint():
                        queued += self._queue_change(data_type, operation, items, origin_system)
                except (psycopg2.OperationalError, psycopg2.InterfaceError):
                    # a serialization failure, a deadlock, a lost connection: the whole run rolls back, which
                    # puts the changes it took back into sync_change for the next run
                    raise
                except Exception as exc:
                    _logger.exception("Queueing %s changes of %s failed", model, data_type.display_name)
                    queued += self._queue_failed(data_type, operation, items, origin_system, exc)
        return queued

    def _queue_failed(self, data_type, operation, items, origin_system, error):
        """Record changes that could not be queued as failed messages, with the reason: a committed change is
        never dropped, and *Retry* tries it again once the cause is mended."""
        systems = data_type.system_ids.filtered(lambda s: s.active and s not in (origin_system or ()))
        reason = _("This change could not be queued: %(error)s", error=error)
        vals_list = [{
            "system_id": system.id, "data_type_id": data_type.id, "model": data_type.model_name, "res_id": res_id,
            "operation": "delete" if operation == "unlink" else "upsert", "state": "failed", "last_error": reason,
            "deletion_info": (payload or {}).get(str(data_type.id)) if operation == "unlink" else None,
        } for system in systems for res_id, payload in items]
        return self._insert_messages(vals_list) if vals_list else 0

    def _queue_change(self, data_type, operation, items, origin_system):
        """Queue what ``items`` (``[(res_id, payload)]``) of one operation mean for ``data_type``; return how many
        messages were queued."""
        ids = [res_id for res_id, _payload in items]
        if operation == "unlink":
            if not data_type.sync_deletion:
                return 0
            info = {res_id: (payload or {}).get(str(data_type.id)) for res_id, payload in items}
            return self._queue_deletions(data_type, ids, info, origin_system)
        if operation == "create" and data_type.trigger not in ("on_create", "on_create_or_write", "interval"):
            return 0
        if operation == "write" and data_type.trigger not in ("on_write", "on_create_or_write", "interval"):
            return 0
        records = self.env[data_type.model_name].sudo().browse(ids).exists()
        matching = data_type._filter_matching(records)
        queued = self._queue_records(data_type, matching, "upsert", origin_system=origin_system)
        leaving = records - matching
        if leaving and data_type.on_leave == "delete":
            queued += self._queue_leaving(data_type, leaving, origin_system)
        return queued

    def _queue_deletions(self, data_type, ids, info, origin_system):
        """Queue deletions, except for records that never left: nothing was sent, nothing is sent."""
        self.env.cr.execute(SQL(
            "SELECT DISTINCT res_id FROM sync_message WHERE data_type_id = %s AND model = %s AND res_id = ANY(%s) "
            "AND envelope IS NOT NULL", data_type.id, data_type.model_name, ids,
        ))
        sent = {row[0] for row in self.env.cr.fetchall()}
        bound = set(self.env["sync.binding"].sudo().search(
            [("model", "=", data_type.model_name), ("res_id", "in", ids)]).mapped("res_id"))
        # unsent upserts of deleted records are moot
        self.env.cr.execute(SQL(
            "UPDATE sync_message SET state = 'cancelled', last_error = %s WHERE data_type_id = %s AND model = %s "
            "AND res_id = ANY(%s) AND state IN ('pending', 'waiting', 'retry') AND operation = 'upsert'",
            _("The record was deleted."), data_type.id, data_type.model_name, ids,
        ))
        known = [res_id for res_id in ids if res_id in sent or res_id in bound]
        return self._queue_records(data_type, self.env[data_type.model_name], "delete", deletion_info=info,
                                   origin_system=origin_system, ids=known)

    def _queue_leaving(self, data_type, records, origin_system):
        bound = self.env["sync.binding"].sudo().search(
            [("model", "=", data_type.model_name), ("res_id", "in", records.ids),
             ("system_id", "in", data_type.system_ids.ids)])
        bound_ids = set(bound.mapped("res_id"))
        leaving = records.filtered(lambda r: r.id in bound_ids)
        if not leaving:
            return 0
        return self._queue_records(data_type, leaving, "delete", deletion_info=data_type._primary_values(leaving),
                                   origin_system=origin_system)

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------
    def _settings(self):
        params = self.env["ir.config_parameter"].sudo()
        return {
            # at least a second: a budget of 0 would send nothing, ever
            "budget": max(float(params.get_param("sync_queue.send_time_budget", 60)), 1.0),
            "lease": int(params.get_param("sync_queue.lease_seconds", 300)),
        }

    @api.model
    def _cron_send(self):
        """Send due messages, system by system, each under a lock that other send crons skip.

        Never raises for a down target or a bad record: failures are recorded
        on the messages, so Odoo never deactivates the cron.
        """
        settings = self._settings()
        deadline = time.monotonic() + settings["budget"]
        sent = 0
        systems = self.env["sync.system"].sudo().search([("paused", "=", False), ("transport", "!=", False)])
        for system in systems:
            if time.monotonic() >= deadline:
                break
            # one worker per system at a time; the lock ends with this cron's transaction
            if not system._lock_sending():
                continue
            try:
                with self.env.cr.savepoint():
                    sent += self._send_system(system, settings, deadline)
            except Exception:
                # one system's trouble never starves the others; its claimed messages are recovered when
                # their lease ends
                _logger.exception("Sending to system %s failed", system.code)
        # paused systems and systems without a transport too: a queue that grows old there needs someone
        alerted = self.env["sync.system"].sudo().search([])
        try:
            with self.env.cr.savepoint():
                alerted._alert_managers()
        except Exception:
            _logger.exception("Alerting the managers failed")
        if time.monotonic() >= deadline and self.env.context.get("cron_id"):
            # a run that spent its budget leaves work: its cron is woken again at once rather than at its
            # interval, in a run of its own (reporting the work as remaining would have Odoo run it again in
            # the same worker, past the worker's time limit)
            self.env["ir.cron"].sudo().browse(self.env.context["cron_id"])._trigger()
        self.env["ir.cron"]._notify_progress(done=sent, remaining=0)
        return sent

    def _claim(self, system, settings):
        """Claim a batch of due messages in a separate, committed transaction; return ``[(id, envelope)]``.

        Row locks that skip locked rows: two workers never claim one message.
        A message left by a dead worker (``recovered``) is claimed alone.  A
        claim that meets a concurrent update (an acknowledgement of a row it
        looked at) starts again from a fresh snapshot.
        """
        for attempt in range(3):
            try:
                return self._claim_batch(system, settings)
            except (psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected):
                _logger.info("Claiming for %s met a concurrent update; again (%s)", system.code, attempt + 1)
                time.sleep(0.05 * (attempt + 1))
        return []

    def _claim_window(self, system, now, extra, size, after):
        """Up to ``size`` due messages of ``system`` after ``after`` (a ``(next_attempt_at, id)`` pair), in due
        order: ``[(id, next_attempt_at)]``, not locked.

        A plain top-N on ``sync_message_due_idx``: the scan stops after the
        window whatever the statistics say, so a claim costs the same on a
        backlog of 100,000 messages as on an empty queue.
        """
        after_at, after_id = after or (datetime.min, 0)
        return SQL(
            """
            SELECT m.id, m.next_attempt_at FROM sync_message m
             WHERE m.system_id = %(system)s
               AND m.state IN ('pending', 'retry', 'waiting')
               AND m.next_attempt_at <= %(now)s
               AND (m.next_attempt_at, m.id) > (%(after_at)s, %(after_id)s)
               %(extra)s
             ORDER BY m.next_attempt_at, m.id
             LIMIT %(size)s
            """,
            system=system.id, now=now, extra=extra, size=size, after_at=after_at, after_id=after_id,
        )

    def _claim_query(self, ids, now, limit):
        """Of the candidates ``ids``, those that may go now, locked, skipping those another worker holds."""
        return SQL(
            """
            SELECT m.id FROM sync_message m
             WHERE m.id = ANY(%(ids)s)
               AND m.state IN ('pending', 'retry', 'waiting')
               AND m.next_attempt_at <= %(now)s
               -- the first unfinished message of its record: one index lookup per candidate
               AND m.id = (
                    SELECT e.id FROM sync_message e
                     WHERE e.system_id = m.system_id AND e.model = m.model AND e.res_id = m.res_id
                       AND e.state NOT IN %(free)s
                     ORDER BY e.id LIMIT 1)
             ORDER BY m.next_attempt_at, m.id
             LIMIT %(limit)s
             FOR UPDATE OF m SKIP LOCKED
            """,
            ids=ids, now=now, free=NOT_BLOCKING, limit=limit,
        )

    def _claim_rows(self, cr, system, now, extra, limit):
        """Ids of up to ``limit`` messages of ``system`` free to go, locked, in due order.

        Candidates are read a window at a time; later messages of records whose
        earlier message is not finished are passed over, and the next window
        is read until enough are found or no due message is left.
        """
        ids, after = [], None
        size = limit * CLAIM_WINDOW
        while len(ids) < limit:
            cr.execute(self._claim_window(system, now, extra, size, after))
            window = cr.fetchall()
            if not window:
                break
            cr.execute(self._claim_query([row[0] for row in window], now, limit - len(ids)))
            ids += [row[0] for row in cr.fetchall()]
            if len(window) < size:
                break
            after = (window[-1][1], window[-1][0])
        return ids

    def _claim_batch(self, system, settings):
        # the cursor's context manager commits the claim when the block ends
        with self.env.registry.cursor() as cr:
            env = self.env(cr=cr)
            now = fields.Datetime.now()
            # the scan stops after a batch, but the planner prices the whole backlog: on a large one it would
            # JIT-compile the query, which costs ten times the claim itself
            cr.execute(SQL("SET LOCAL jit = off"))
            # a message left by a dead worker goes first, and alone
            rows = self._claim_rows(cr, system, now, SQL("AND m.recovered"), 1)
            recovered = bool(rows)
            if not rows:
                rows = self._claim_rows(cr, system, now, SQL(""), system.batch_size)
            if not rows:
                return []
            candidates = env["sync.message"].browse(rows)
            # one narrow query for what claiming reads, instead of every column of the batch
            candidates.fetch(CLAIM_FIELDS)

            def pull(ids):
                cr.execute(self._claim_query(list(ids), now, len(ids)))
                extra = env["sync.message"].browse([row[0] for row in cr.fetchall()])
                extra.fetch(CLAIM_FIELDS)
                return extra

            # a recovered message goes alone: nothing is claimed with it
            messages = candidates._hold_for_references(now, pull=None if recovered else pull)
            if not messages:
                return [(False, False)]
            lease = now + timedelta(seconds=settings["lease"])
            env.flush_all()
            cr.execute(SQL(
                "UPDATE sync_message SET state = 'sending', lease_until = %s, "
                "attempt_count = COALESCE(attempt_count, 0) + 1, waiting_reason = NULL, write_date = %s "
                "WHERE id = ANY(%s)",
                lease, now, messages.ids,
            ))
            claimed_ids = messages.ids
        # Envelopes are built after the claim is committed: a record whose serialization never ends (a code
        # line that loops, a string that fills the memory) kills its worker with its batch under a lease, and
        # each of them is then recovered and claimed alone, so that record fails alone after its attempts.
        return self._freeze_claimed(claimed_ids) or [(False, False)]

    def _freeze_claimed(self, ids):
        """Build and store the envelopes of the claimed messages ``ids`` that have none yet, in a transaction
        of their own; return ``[(id, envelope)]`` of those that can go, the others failed with the reason."""
        with self.env.registry.cursor() as cr:
            messages = self.with_env(self.env(cr=cr)).browse(ids)
            messages.fetch(CLAIM_FIELDS)
            frozen = messages._freeze_envelopes()
            ready = messages.filtered(lambda m: m.state != "failed")
            claimed = [(message.id, frozen.get(message.id) or message.envelope) for message in ready]
            messages.env.flush_all()
            if frozen:
                # "m.id = ANY" besides the join: the rows are found by their key whatever the statistics say
                # (taken on a queue nearly empty, they lead the planner to scan the whole table for each batch)
                cr.execute(SQL(
                    "UPDATE sync_message m SET envelope = v.envelope FROM unnest(%s::int[], %s::text[]) "
                    "AS v(id, envelope) WHERE m.id = v.id AND m.id = ANY(%s) AND m.envelope IS NULL",
                    list(frozen), list(frozen.values()), list(frozen),
                ))
        return claimed

    def _hold_for_references(self, now, pull=None):
        """The messages free to go, referenced records first; the others wait, and say for what.

        A message whose document references a record that has a message to the
        same system not yet done waits for it, unless that message goes in the
        same batch.  ``pull(ids)``, when given, claims such messages that are
        due with the batch (a cycle of references goes together, also when it
        straddles the end of a batch), once.
        """
        keys = {tuple(key) for message in self for key in (message.reference_keys or [])}
        if not keys:
            return self
        system = self.system_id[:1]
        self.env.cr.execute(SQL(
            "SELECT id, model, res_id, uuid, state, next_attempt_at <= %s FROM sync_message "
            "WHERE system_id = %s AND state NOT IN %s AND (model, res_id) IN %s",
            now, system.id, NOT_BLOCKING, tuple(keys),
        ))
        unfinished = {}
        for message_id, model, res_id, message_uuid, state, due in self.env.cr.fetchall():
            unfinished.setdefault((model, res_id), []).append((message_id, message_uuid, state, due))
        batch_ids = set(self.ids)
        blocked = {}
        for message in self:
            blockers = [
                (key, blocker)
                for key in map(tuple, message.reference_keys or [])
                for blocker in unfinished.get(key, [])
                if blocker[0] not in batch_ids
            ]
            if blockers:
                blocked[message] = blockers
        if blocked and pull:
            due = {blocker[0] for blockers in blocked.values() for _key, blocker in blockers
                   if blocker[2] in ("pending", "waiting", "retry") and blocker[3]}
            extra = pull(due) if due else self.browse()
            if extra:
                return (self | extra)._hold_for_references(now)
        free = self.browse()
        for message in self:
            if message not in blocked:
                free |= message
                continue
            (model, res_id), (_id, blocker_uuid, state, _due) = blocked[message][0]
            message.write({
                # a message never claimed that is not pending keeps its state: "waiting" would put it among the
                # unsent messages, beside the one a later change of its record may have queued
                "state": "waiting" if message.state in ("pending", "waiting") or message.attempt_count
                else message.state,
                "next_attempt_at": now + timedelta(seconds=HOLD_SECONDS),
                "waiting_reason": _("Waits for message %(uuid)s of %(model)s,%(res_id)s (%(state)s), "
                                    "which its document references.", uuid=blocker_uuid, model=model,
                                    res_id=res_id, state=state),
            })
        # referenced records go first
        referenced = {key for message in free for key in map(tuple, message.reference_keys or [])}
        return free.sorted(lambda m: ((m.model, m.res_id) not in referenced, m.id))

    def _freeze_envelopes(self):
        """Build the envelopes of messages that have none yet: ``{message id: envelope text}``, for the
        claim to store.  A record that cannot be serialized fails alone."""
        source = self.env["sync.system"]._get_own_code()
        todo = self.filtered(lambda m: not m.envelope)
        frozen = {}
        for (data_type, system), messages in todo.grouped(lambda m: (m.data_type_id, m.system_id)).items():
            targets = system._get_targets()
            upserts = messages.filtered(lambda m: m.operation == "upsert")
            records = self.env[data_type.model_name].sudo().browse(upserts.mapped("res_id")).exists()
            documents = {}
            try:
                with self.env.cr.savepoint():
                    for record, document, error in data_type.sudo()._serialize_collect(records, system):
                        documents[record.id] = (document, error)
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                raise  # the messages stay claimed: recovered when their lease ends
            except Exception as exc:
                # an error of the whole data type (its schema, its depth): its messages fail with the reason,
                # the other data types and systems go on
                _logger.exception("Serializing %s for %s failed", data_type.display_name, system.code)
                reason = _("%(data_type)s cannot be serialized: %(error)s", data_type=data_type.display_name,
                           error=exc)
                for message in upserts:
                    message.write({"state": "failed", "last_error": reason})
                    message._log_attempt("permanent", reason, 0.0)
                messages -= upserts
            for message in messages:
                if message.operation == "delete":
                    payload = self._deletion_payload(message, system)
                else:
                    document, error = documents.get(message.res_id, (None, None))
                    if error or document is None:
                        reason = error.args[0] if error else _("The record no longer exists or left the company.")
                        message.write({"state": "failed", "last_error": reason})
                        message._log_attempt("permanent", reason, 0.0)
                        continue
                    payload = document
                envelope = envelope_lib.build(
                    data_type.message_type or data_type.model_name.replace(".", "_"), message.operation, source,
                    targets, message.model, message.res_id, payload, message_id=message.uuid,
                    created_at=message.create_date,
                )
                frozen[message.id] = envelope_lib.dumps(envelope)
        return frozen

    def _deletion_payload(self, message, system):
        binding = self.env["sync.binding"].sudo().search(
            [("system_id", "=", system.id), ("model", "=", message.model), ("res_id", "=", message.res_id)], limit=1)
        payload = dict(message.deletion_info or {})
        if binding:
            payload["ref"] = binding.remote_ref
        return payload

    def _send_system(self, system, settings, deadline):
        """Send batches of ``system`` until none is due or the deadline; return how many messages were sent.

        When the transport can deliver in a worker thread, the next batch is
        claimed and prepared while the previous one is on the network: one
        batch at most is in flight, and the claim never takes a message
        whose record has an earlier one in flight.
        """
        sent = 0
        in_flight = None
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sync-send") as pool:
            try:
                while time.monotonic() < deadline:
                    count, in_flight_next = self._send_batch(system, settings, pool)
                    # the new batch is tracked before the previous one is stored: never dropped if that raises
                    previous, in_flight = in_flight, in_flight_next
                    if previous:
                        self._finish_in_flight(system, previous)
                    if not count:
                        break
                    sent += max(count, 0)
            finally:
                if in_flight:
                    self._finish_in_flight(system, in_flight)
        return sent

    def _send_batch(self, system, settings, pool=None):
        """Claim and send a batch; ``(count, in flight)``: ``in flight`` is ``(ids, future, started)`` when the
        delivery runs in ``pool``, its results to be stored by :meth:`_finish_in_flight`."""
        # raw SQL and a separate cursor follow: pending ORM writes go first
        self.env.flush_all()
        claimed = self._claim(system, settings)
        if claimed == [(False, False)]:
            return -1, None  # everything looked at is held back: look further
        if not claimed:
            return 0, None
        ids = [message_id for message_id, _e in claimed]
        envelopes = [json.loads(envelope) for _id, envelope in claimed]
        started = time.monotonic()
        try:
            deliver = system._send_envelopes_deferred(envelopes) if pool else None
            if deliver:
                return len(claimed), (ids, pool.submit(deliver), started)
            results = system._send_envelopes(envelopes)
        except Exception as exc:  # noqa: BLE001 - a failing transport fails its batch, never the scheduler
            results = self._failed_batch(system, exc, len(envelopes))
        self._store_results(ids, results, time.monotonic() - started)
        return len(claimed), None

    def _finish_in_flight(self, system, in_flight):
        ids, future, started = in_flight
        try:
            results = future.result()
        except Exception as exc:  # noqa: BLE001 - a failing transport fails its batch, never the scheduler
            results = self._failed_batch(system, exc, len(ids))
        self._store_results(ids, results, time.monotonic() - started)

    def _failed_batch(self, system, exc, count):
        _logger.info("Transport of %s failed: %s", system.code, exc)
        return [TransportResult.transient(f"{type(exc).__name__}: {exc}")] * count

    def _store_results(self, ids, results, duration):
        """Store transport results in a fresh transaction.

        The claim was committed after this scheduler's snapshot was taken, so
        its rows are written from a transaction that sees it; a concurrent
        acknowledgement makes it start again (it then wins: results never
        undo an acknowledgement).
        """
        for attempt in range(STORE_ATTEMPTS):
            try:
                with self.env.registry.cursor() as cr:
                    env = self.env(cr=cr)
                    cr.execute(SQL("SELECT id FROM sync_message WHERE id = ANY(%s) ORDER BY id FOR UPDATE", ids))
                    env["sync.message"].browse(ids)._apply_results(results, duration / len(ids))
                return
            except (psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected):
                _logger.info("Storing results met a concurrent update; again (%s)", attempt + 1)
                time.sleep(0.05 * (attempt + 1))
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
                # the batch was delivered: its results are worth waiting for while PostgreSQL restarts or a
                # dropped connection is replaced, rather than sending it again once the lease ends
                _logger.warning("Storing the results of %s messages lost the database (%s); again (%s)",
                                len(ids), str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                                attempt + 1)
                time.sleep(min(2 ** attempt * 0.5, 10))
        _logger.warning("Could not store the results of %s messages: their lease will expire and they go again",
                        len(ids))

    def _apply_result(self, result, duration=0.0):
        """Move a message after an acknowledgement already stored in the response queue; an acknowledgement
        already received is never undone."""
        self.ensure_one()
        self._apply_results([result], duration, replies=False)

    def _apply_results(self, results, duration=0.0, replies=True):
        """Move messages after their transport results, set by set (the send queue's hot path).

        Only messages still ``sending`` move: an acknowledgement already
        received is never undone by a late transport result.  With
        ``replies``, acknowledgements and refusals are stored in the response
        queue too.
        """
        now = fields.Datetime.now()
        self.fetch(RESULT_FIELDS)
        self._insert_attempts([(message.id, result.status, result.reason) for message, result in
                               zip(self, results, strict=True)], duration, now)
        moving = [(message, result) for message, result in zip(self, results, strict=True)
                  if message.state == "sending"]
        if replies:
            # what the receiver answered lands in the response queue, as an acknowledgement posted later does
            self.env["sync.response"]._insert_replies(
                [(message, result, message.state == "sending") for message, result in
                 zip(self, results, strict=True) if result.status in (ACKNOWLEDGED, PERMANENT)], now)
        done = [m for m, r in moving if r.status == ACKNOWLEDGED]
        accepted = [m for m, r in moving if r.status == ACCEPTED]
        failed = {}
        for message, result in moving:
            if result.status == PERMANENT:
                failed.setdefault(result.reason, []).append(message.id)
        cr = self.env.cr
        self.flush_model()
        if done:
            cr.execute(SQL(
                "UPDATE sync_message SET state = 'done', acked_at = %(now)s, sent_at = COALESCE(sent_at, %(now)s), "
                "last_error = NULL, lease_until = NULL, write_date = %(now)s WHERE id = ANY(%(ids)s)",
                now=now, ids=[m.id for m in done],
            ))
        if accepted:
            cr.execute(SQL(
                "UPDATE sync_message SET state = 'sent', sent_at = %(now)s, lease_until = NULL, write_date = %(now)s "
                "WHERE id = ANY(%(ids)s)", now=now, ids=[m.id for m in accepted],
            ))
        for reason, ids in failed.items():
            cr.execute(SQL(
                "UPDATE sync_message SET state = 'failed', last_error = %(reason)s, lease_until = NULL, "
                "write_date = %(now)s WHERE id = ANY(%(ids)s)", reason=reason, now=now, ids=ids,
            ))
        # what identifies a message stays cached for the retries and bindings below
        self.invalidate_recordset(["state", "acked_at", "sent_at", "last_error", "lease_until", "write_date"])
        retrying = [(message, result) for message, result in moving
                    if result.status not in (ACKNOWLEDGED, ACCEPTED, PERMANENT)]
        if retrying:
            self._schedule_retries(retrying, now)
        self._store_bindings([(m, r) for m, r in moving if r.status == ACKNOWLEDGED])

    def _store_bindings(self, acknowledged):
        """Bindings of acknowledged messages: stored for upserts, removed for deletions."""
        for system in {message.system_id for message, _result in acknowledged}:
            pairs = [(m, r) for m, r in acknowledged if m.system_id == system]
            rows = [(m.model, m.res_id, r.remote_model or m.model, r.remote_ref)
                    for m, r in pairs if m.operation == "upsert" and r.remote_ref]
            self.env["sync.binding"].sudo()._bind_many(system, rows)
            deleted = {(m.model, m.res_id) for m, _r in pairs if m.operation == "delete"}
            if deleted:
                candidates = self.env["sync.binding"].sudo().search([
                    ("system_id", "=", system.id),
                    ("model", "in", list({model for model, _id in deleted})),
                    ("res_id", "in", [res_id for _model, res_id in deleted]),
                ])
                candidates.filtered(lambda b, keys=deleted: (b.model, b.res_id) in keys).unlink()

    def _schedule_retries(self, pairs, now):
        """``retry`` on the system's delays for each ``(message, transient result)``, or ``failed`` once
        ``max_attempts`` is reached; one statement per distinct outcome."""
        groups = {}
        for message, result in pairs:
            system = message.system_id
            give_up, next_at = next_attempt(now, message.attempt_count, system._get_retry_delays(),
                                            system.max_attempts, result.retry_after)
            if give_up:
                key = ("failed", _("%(reason)s (after %(count)s attempts)", reason=result.reason,
                                   count=message.attempt_count), None)
            else:
                key = ("retry", result.reason, next_at)
            groups.setdefault(key, []).append(message.id)
        self.flush_model()
        for (state, reason, next_at), ids in groups.items():
            self.env.cr.execute(SQL(
                "UPDATE sync_message SET state = %(state)s, last_error = %(reason)s, lease_until = NULL, "
                "next_attempt_at = COALESCE(%(next_at)s, next_attempt_at), write_date = %(now)s "
                "WHERE id = ANY(%(ids)s)",
                state=state, reason=reason or None, next_at=next_at, now=now, ids=ids,
            ))
        self.browse([message.id for message, _result in pairs]).invalidate_recordset(
            ["state", "last_error", "lease_until", "next_attempt_at", "write_date"])

    def _insert_attempts(self, rows, duration, now):
        """Log attempts ``(message_id, outcome, error)`` in one statement: the send queue's hot path."""
        if not rows:
            return
        self.env["sync.message.attempt"].flush_model()
        uid = self.env.uid
        self.env.cr.execute(SQL(
            "INSERT INTO sync_message_attempt (message_id, outcome, error, duration, attempted_at, create_uid, "
            "create_date, write_uid, write_date) "
            "SELECT v.message_id, v.outcome, v.error, %(duration)s, %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s "
            "FROM unnest(%(ids)s::int[], %(outcomes)s::varchar[], %(errors)s::text[]) AS v(message_id, outcome, error)",
            duration=duration, now=now, uid=uid, ids=[row[0] for row in rows], outcomes=[row[1] for row in rows],
            errors=[row[2] or None for row in rows],
        ))
        self.env["sync.message.attempt"].invalidate_model()
        self.browse([row[0] for row in rows]).invalidate_recordset(["attempt_ids"])

    def _log_attempt(self, outcome, error, duration):
        self.ensure_one()
        self._insert_attempts([(self.id, outcome, error)], duration, fields.Datetime.now())

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
            "AND m.sent_at + make_interval(secs => s.ack_timeout) < %(now)s",
            now=now, reason=_("No acknowledgement in time: sent again."),
        ))
        overdue = cr.rowcount
        cr.execute(SQL(
            "UPDATE sync_message SET state = 'retry', recovered = true, next_attempt_at = %(now)s, "
            "last_error = %(reason)s WHERE state = 'sending' AND lease_until < %(now)s RETURNING id, attempt_count, "
            "system_id",
            now=now, reason=_("Its worker stopped while sending it: recovered after its lease."),
        ))
        recovered = cr.fetchall()
        for message_id, attempts, system_id in recovered:
            if attempts >= self.env["sync.system"].browse(system_id).max_attempts:
                self.browse(message_id).write({
                    "state": "failed",
                    "last_error": _("Its worker stopped while sending it, %(count)s times.", count=attempts),
                })
        self.invalidate_model()
        self.env["ir.cron"]._notify_progress(done=overdue + len(recovered), remaining=0)

    @api.model
    def _cron_vacuum(self):
        """Remove done and cancelled messages, their attempts and responses, after the configured days,
        and received envelopes after theirs (``sync_queue.inbound_keep_days``)."""
        days = max(int(self.env["ir.config_parameter"].sudo().get_param("sync_queue.vacuum_days", 30)), 1)
        limit_date = fields.Datetime.now() - timedelta(days=days)
        old = self.search([("state", "in", ("done", "cancelled")), ("write_date", "<", limit_date)], limit=10000)
        count = len(old)
        old.unlink()
        self.env["sync.response"].search([("received_at", "<", limit_date), ("message_id", "=", False)]).unlink()
        inbound = self.env["sync.inbound.message"]._vacuum()
        more = count >= 10000 or inbound >= 10000
        self.env["ir.cron"]._notify_progress(done=count + inbound, remaining=1 if more else 0)

    # ------------------------------------------------------------------
    # User actions
    # ------------------------------------------------------------------
    @api.model
    def _trigger_send(self):
        """Wake the active send schedulers right after this transaction commits."""
        for xmlid in ("sync_queue.ir_cron_send", "sync_queue.ir_cron_send_2", "sync_queue.ir_cron_send_3",
                      "sync_queue.ir_cron_send_4"):
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

    def action_retry(self):
        """Send the frozen envelope again, as soon as possible."""
        messages = self._check_queue_rights()
        now = fields.Datetime.now()
        # never claimed and still to send: due now, and still among the messages later changes merge into
        unsent = messages.filtered(lambda m: m.state in ("pending", "waiting") and not m.attempt_count)
        unsent.write({"next_attempt_at": now})
        retriable = (messages - unsent).filtered(lambda m: m.state in ("failed", "retry", "sent", "waiting"))
        retriable.write({"state": "retry", "next_attempt_at": now, "recovered": False})
        if unsent or retriable:
            self._trigger_send()
        return True

    def action_cancel(self):
        """Give up messages that are not done nor being sent."""
        messages = self._check_queue_rights()
        messages.filtered(lambda m: m.state not in ("done", "sending")).write(
            {"state": "cancelled", "last_error": _("Cancelled by %(user)s.", user=self.env.user.name)}
        )
        return True

    def action_requeue(self):
        """Queue a new message to the same system, built from the record as it is now (a deletion from what it
        kept of the record); the message it replaces is cancelled unless it is done or being sent.  A message
        never claimed yet is built when it goes: it is only made due now."""
        messages = self._check_queue_rights()
        unsent = messages.filtered(lambda m: m.state in ("pending", "waiting") and not m.attempt_count)
        unsent.write({"next_attempt_at": fields.Datetime.now()})
        replaced, skipped = messages.browse(), messages.browse()
        # one queueing per data type, system and operation, not one per message
        for (data_type, system, operation), group in (messages - unsent).grouped(
                lambda m: (m.data_type_id, m.system_id, m.operation)).items():
            Model = self.env[data_type.model_name]
            if operation == "upsert":
                records = Model.browse(group.mapped("res_id")).exists()
                self._queue_records(data_type, records, "upsert", systems=system)
            else:
                self._queue_records(data_type, Model, "delete", ids=group.mapped("res_id"), systems=system,
                                    deletion_info={m.res_id: m.deletion_info for m in group})
            # queued, or merged into a message of the record still to send; not when the record is gone, the
            # system no longer receives the data type or the record left its company: those stay as they are
            self.flush_model()
            self.env.cr.execute(SQL(
                "SELECT res_id FROM sync_message WHERE system_id = %s AND data_type_id = %s AND model = %s "
                "AND res_id = ANY(%s) AND operation = %s AND %s",
                system.id, data_type.id, data_type.model_name, group.mapped("res_id"), operation, UNSENT,
            ))
            queued = {row[0] for row in self.env.cr.fetchall()}
            replaced |= group.filtered(lambda m, queued=queued: m.res_id in queued)
            skipped |= group.filtered(lambda m, queued=queued: m.res_id not in queued)
        replaced.filtered(lambda m: m.state not in ("done", "sending")).write(
            {"state": "cancelled", "last_error": _("Requeued by %(user)s.", user=self.env.user.name)})
        if unsent or replaced:
            self._trigger_send()
        if skipped:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "warning",
                    "message": _("%(count)s message(s) not requeued: their record no longer exists, or their system "
                                 "no longer receives it (%(names)s).",
                                 count=len(skipped), names=", ".join(skipped.mapped("display_name")[:5])),
                    "next": {"type": "ir.actions.client", "tag": "soft_reload"},
                },
            }
        return True

    def write(self, vals):
        # the identity and the frozen envelope of a message never change, not even for a manager over RPC:
        # every resend must carry the identical envelope to the same record of the same system
        frozen = FROZEN_FIELDS.intersection(vals)
        if frozen and not self.env.su:
            raise AccessError(_("A message's %(fields)s never change.", fields=", ".join(sorted(frozen))))
        return super().write(vals)
