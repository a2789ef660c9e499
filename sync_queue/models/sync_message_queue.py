"""The send queue, part 1: captured changes become messages (coalesced, routed, ordered)."""

import json
import logging
import uuid

import psycopg2

from odoo import _, api, fields, models
from odoo.tools import SQL

from odoo.addons.sync_base import compat

from ..lib import decisions, states
from .sync_message import UNSENT, unsent

# one logger for the whole model, whichever file a method lives in: operators set its level by that name
_logger = logging.getLogger(__name__.rpartition("_")[0])

class SyncMessageQueue(models.Model):
    _inherit = "sync.message"

    # ------------------------------------------------------------------
    # Queueing
    # ------------------------------------------------------------------
    @api.model
    def _queue_records(self, data_type, records, operation, deletion_info=None, origin_system=None, ids=None,
                       systems=None):
        """Queue messages of ``records`` (or of the deleted ``ids``) for each target system of ``data_type``
        (only those among ``systems`` when given), except the systems in ``origin_system`` (those the change
        came from).

        An upsert goes to the systems of the record's company; a deletion only
        to the systems that may hold the record (:meth:`_deletion_targets`).
        A record with a message of the same system and operation not sent yet
        gets no second one, but that message's ordering (``reference_keys``)
        and label are refreshed; earlier failed messages are superseded.
        Returns the number of new messages.
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
        # a message's name is read by every synchronization user: not the name of a record its owner may not read
        for record_id in data_type._owner_unreadable(records) if records else ():
            names[record_id] = f"{data_type.model_name},{record_id}"
        self.flush_model()
        self.env.cr.execute(SQL(
            "SELECT system_id, res_id, id, reference_keys, record_name FROM sync_message WHERE data_type_id = %s "
            "AND model = %s AND res_id = ANY(%s) AND operation = %s AND %s AND system_id = ANY(%s)",
            data_type.id, data_type.model_name, ids, operation, UNSENT, systems.ids,
        ))
        existing = {(system_id, res_id): (message_id, keys, name)
                    for system_id, res_id, message_id, keys, name in self.env.cr.fetchall()}
        next_at = data_type._next_interval_at() if data_type.trigger == "interval" else None
        references = data_type._reference_keys(records) if records and operation == "upsert" else {}
        if operation == "delete":
            targets = self._deletion_targets(data_type, records, ids, systems)
        else:
            targets = {}
            for system in systems:
                reachable = ids
                if records and system.company_id and "company_id" in records._fields:
                    allowed = set(data_type._filter_company(records.sudo(), system).ids)
                    reachable = [res_id for res_id in ids if res_id in allowed]
                targets[system.id] = reachable
        vals_list = [{
            "system_id": system_id,
            "data_type_id": data_type.id,
            "model": data_type.model_name,
            "res_id": res_id,
            "record_name": names.get(res_id, False),
            "operation": operation,
            "deletion_info": (deletion_info or {}).get(res_id),
            "reference_keys": references.get(res_id) or False,
            "next_attempt_at": next_at,
        } for system_id, res_ids in targets.items() for res_id in res_ids]
        # the record's last change wins: an upsert not sent yet of a record that leaves, or a deletion not sent
        # yet of a record that comes back, would otherwise go after the change that undid it
        self.env.cr.execute(SQL(
            "SELECT system_id, res_id, id FROM sync_message WHERE data_type_id = %s AND model = %s "
            "AND res_id = ANY(%s) AND operation != %s AND %s AND system_id = ANY(%s)",
            data_type.id, data_type.model_name, ids, operation, UNSENT, systems.ids,
        ))
        opposite = {}
        for system_id, res_id, message_id in self.env.cr.fetchall():
            opposite.setdefault((system_id, res_id), []).append(message_id)
        superseded = decisions.superseded(vals_list, opposite)
        if superseded:
            self._cancel_unsent(superseded, _("Superseded by a later change of the record: it left the data type "
                                              "or came back before this message was sent."))
        vals_list, refresh = decisions.coalesce(vals_list, existing)
        if refresh:
            self._refresh_unsent(refresh, existing)
        if not vals_list:
            return 0
        self.env.cr.execute(SQL(
            "UPDATE sync_message SET state = 'cancelled', last_error = %s WHERE data_type_id = %s AND model = %s "
            "AND res_id = ANY(%s) AND state = 'failed' AND system_id = ANY(%s)",
            _("Superseded by a later message of the same record."), data_type.id, data_type.model_name, ids,
            systems.ids,
        ))
        return self._insert_messages(vals_list)

    def _deletion_targets(self, data_type, records, ids, systems):
        """``{system id: [res_id]}``: where the deletion of the records ``ids`` of ``data_type`` goes among
        ``systems``: where they may be (a binding, an upsert that may have been delivered, also one claimed
        and still in flight), within the system's company (:func:`..lib.decisions.deletion_targets`).

        ``records``: those of ``ids`` that still exist (a record leaving the
        data type), whose company is known."""
        # by any data type of the model, as a binding is: the system holds the record, whichever document
        # brought it there
        self.env.cr.execute(SQL(
            "SELECT system_id, res_id, operation, state, attempt_count, envelope IS NOT NULL FROM sync_message "
            "WHERE system_id = ANY(%s) AND model = %s AND res_id = ANY(%s) AND operation = 'upsert' "
            "AND attempt_count > 0",
            systems.ids, data_type.model_name, ids,
        ))
        messages = self.env.cr.fetchall()
        bindings = [(binding.system_id.id, binding.res_id) for binding in self.env["sync.binding"].sudo().search(
            [("model", "=", data_type.model_name), ("res_id", "in", ids), ("system_id", "in", systems.ids)])]
        companies = {}
        if records and "company_id" in records._fields:
            companies = {record.id: record.company_id.id or None
                         for record in records.sudo().with_context(active_test=False)}
        return decisions.deletion_targets(ids, [(system.id, system.company_id.id or None) for system in systems],
                                          bindings, messages, companies)

    def _cancel_unsent(self, message_ids, reason):
        """Cancel the messages ``message_ids`` that are still unsent (a message claimed meanwhile goes on)."""
        self.env.cr.execute(SQL(
            "UPDATE sync_message SET state = 'cancelled', last_error = %s, write_date = %s "
            "WHERE id = ANY(%s) AND %s",
            reason, fields.Datetime.now(), list(message_ids), UNSENT,
        ))
        self.invalidate_model(["state", "last_error", "write_date"])

    def _refresh_unsent(self, refresh, existing):
        """Write what :func:`..lib.decisions.coalesce` refreshes on messages not sent yet, in one statement;
        a message claimed meanwhile is left as it is (its document was built from the record as it was)."""
        by_id = {message_id: (keys, name) for message_id, keys, name in existing.values()}
        rows = []
        for message_id, changes in refresh:
            keys, name = by_id[message_id]
            keys = changes.get("reference_keys", keys)
            rows.append((message_id, json.dumps(keys) if keys else None, changes.get("record_name", name) or None))
        # each value picked by the row's position, no join: its plan would follow the statistics (the unsent
        # messages' few rows have the planner unnest the batch again for each row)
        ids = SQL("array_position(%s::int[], m.id)", [row[0] for row in rows])
        self.env.cr.execute(SQL(
            "UPDATE sync_message m SET reference_keys = ((%s::text[])[%s])::jsonb, record_name = (%s::varchar[])[%s], "
            "write_date = %s WHERE m.id = ANY(%s) AND %s",
            [row[1] for row in rows], ids, [row[2] for row in rows], ids, fields.Datetime.now(),
            [row[0] for row in rows], unsent("m"),
        ))
        self.invalidate_model(["reference_keys", "record_name", "write_date"])

    @api.model
    def _records_with_unsent_changes(self, system, model, res_ids):
        """Of the records ``res_ids`` of ``model``, those with changes still to send to ``system``: an
        unfinished message to it, or a captured change not queued yet that did not come from it.

        The documented way for other addons to ask the queue (a pull lets such local changes win, for now);
        returns a set of ids.
        """
        if not res_ids:
            return set()
        self.env.flush_all()
        self.env.cr.execute(SQL(
            "SELECT res_id FROM sync_message WHERE system_id = %(system)s AND model = %(model)s "
            "AND res_id = ANY(%(ids)s) AND state IN %(open)s "
            "UNION SELECT res_id FROM sync_change WHERE model = %(model)s AND res_id = ANY(%(ids)s) "
            "AND NOT (%(system_text)s = ANY(string_to_array(coalesce(origin_system_ids, ''), ',')))",
            system=system.id, model=model, ids=list(res_ids), system_text=str(system.id), open=states.OPEN,
        ))
        return {row[0] for row in self.env.cr.fetchall()}

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
            uid=uid, now=now, free=states.FINAL, unsent=UNSENT,
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
        compat.cron_progress(self.env, len(rows), remaining)

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
        ids = [res_id for res_id, _payload in items]
        if operation == "unlink":
            # a deletion, even a failed one that Retry would send, only goes where its record may be
            targets = self._deletion_targets(data_type, self.env[data_type.model_name], ids, systems)
        else:
            targets = {system.id: ids for system in systems}
        vals_list = [{
            "system_id": system_id, "data_type_id": data_type.id, "model": data_type.model_name, "res_id": res_id,
            "operation": "delete" if operation == "unlink" else "upsert", "state": "failed", "last_error": reason,
            "deletion_info": (payload or {}).get(str(data_type.id)) if operation == "unlink" else None,
        } for system_id, routed in targets.items() for res_id, payload in items if res_id in routed]
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
        """Queue the deletions of the deleted records ``ids`` where they may have gone (see
        :meth:`_deletion_targets`): a system that never got a record gets no deletion of it."""
        # unsent upserts of deleted records are moot; one that may have left is cancelled too, and its deletion,
        # queued below, follows it
        self.flush_model()
        self.env.cr.execute(SQL(
            "UPDATE sync_message SET state = 'cancelled', last_error = %s WHERE data_type_id = %s AND model = %s "
            "AND res_id = ANY(%s) AND state IN %s AND operation = 'upsert'",
            _("The record was deleted."), data_type.id, data_type.model_name, ids, states.DUE,
        ))
        self.invalidate_model(["state", "last_error"])
        return self._queue_records(data_type, self.env[data_type.model_name], "delete", deletion_info=info,
                                   origin_system=origin_system, ids=ids)

    def _queue_leaving(self, data_type, records, origin_system):
        """Queue deletions of ``records`` that stopped matching ``data_type`` (``on_leave``), where they may
        have gone, as for a deleted record; their upserts not sent yet are cancelled everywhere: built when
        claimed, they would send a record that no longer matches."""
        self.flush_model()
        self.env.cr.execute(SQL(
            "SELECT id FROM sync_message WHERE data_type_id = %s AND model = %s AND res_id = ANY(%s) "
            "AND operation = 'upsert' AND %s",
            data_type.id, data_type.model_name, records.ids, UNSENT,
        ))
        unsent_upserts = [row[0] for row in self.env.cr.fetchall()]
        if unsent_upserts:
            self._cancel_unsent(unsent_upserts, _("The record no longer matches the data type."))
        return self._queue_records(data_type, records, "delete", deletion_info=data_type._primary_values(records),
                                   origin_system=origin_system)
