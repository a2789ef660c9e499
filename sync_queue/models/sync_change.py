import json
import logging

from odoo import fields, models
from odoo.tools import SQL, split_every

from odoo.addons.sync_base import compat

_logger = logging.getLogger(__name__)

WAKE_KEY = "sync_queue.wake"


class SyncChange(models.Model):
    """A captured change of a synchronized record: the transactional outbox.

    Rows are written by the statement that makes the change, in its
    transaction and savepoint, so a rolled-back transaction or savepoint
    leaves none and a committed one always leaves its rows.
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

    def _insert_captured(self, rows):
        """Write captured changes ``[(model, res_id, operation, payload, origin ids)]`` now, in the statement's
        transaction (and savepoint), and wake the queue scheduler once the transaction commits."""
        cr = self.env.cr
        now = fields.Datetime.now()
        for chunk in split_every(1000, rows):
            cr.execute(SQL(
                "INSERT INTO sync_change (model, res_id, operation, payload, origin_system_ids, create_date) VALUES %s",
                SQL(", ").join(
                    SQL("(%s, %s, %s, %s, %s, %s)", model, res_id, operation, json.dumps(payload) if payload else None,
                        ",".join(map(str, origin)) if origin else None, now)
                    for model, res_id, operation, payload, origin in chunk
                ),
            ))
        if not cr.precommit.data.get(WAKE_KEY):
            cr.precommit.data[WAKE_KEY] = True
            cr.precommit.add(self._wake_queue)

    def _wake_queue(self):
        """Precommit hook: wake a cron worker right after the commit (a trigger rolled back with the transaction).

        Not from within the capture, which may run inside a flush, where
        creating the trigger record would write during the flush.
        """
        cron = self.env.ref("sync_queue.ir_cron_create_queue", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()
            self.env.flush_all()

    def _register_hook(self):
        """At the end of a module installation or upgrade, capture what the modules loaded before capture started
        changed.

        While modules load, capture starts once the suite is loaded (see
        ``base._sync_capture_map``); the modules processed before it in the
        same run (``-u base`` updating countries, a module that depends on
        ``base`` only being upgraded) ran without it.  Their creations and
        updates carry a write date of the run's transactions, all made on the
        connection that loads the registry: every record of a synchronized
        model written since that connection opened is captured, once (a
        record that already has the same pending change is not captured
        again, so what the suite captured live is not doubled).  A record
        changed by such a module with raw SQL, or deleted by it, is not seen.
        Runs while the registry is loading, in the transaction that ends the
        loading.
        """
        super()._register_hook()
        pool = self.pool
        if pool.ready or not pool.updated_modules:
            return
        capture_map = self._sync_capture_map()
        started = getattr(pool, "_sync_capture_started", frozenset())
        missed = getattr(pool, "_sync_capture_missed", False)
        if not missed and not any(module in started for module in pool.updated_modules):
            return  # every module of this run loaded with capture running
        if missed or capture_map is None:
            # read it now that every module is loaded and every column exists
            data_types = self.env["sync.data.type"]
            capture_map = compat.ormcache_compute(data_types._capture_map)
        if not capture_map:
            return
        cr = self.env.cr
        # the loading connection opened before the run's first transaction, and stays open until its end
        cr.execute("SELECT backend_start AT TIME ZONE 'UTC' FROM pg_stat_activity WHERE pid = pg_backend_pid()")
        since = cr.fetchone()[0]
        cr.execute("SELECT coalesce(max(id), 0) FROM sync_change")
        last_id = cr.fetchone()[0]
        for model, spec in capture_map.items():
            Model = self.env[model].sudo().with_context(active_test=False)
            if not Model._log_access or not (spec["self"] or spec["parents"] or spec["triggers"] or spec["paths"]):
                continue
            records = Model.search([("write_date", ">=", since)], order="id")
            if not records:
                continue
            created = records.filtered(lambda r, since=since: r.create_date and r.create_date >= since)
            if created:
                created._sync_capture("create", spec)
            if records - created:
                (records - created)._sync_capture("write", spec)
            if spec["triggers"]:
                records._sync_capture_dependents(capture_map, spec["triggers"])
            if spec["paths"]:
                records._sync_capture_paths(capture_map, spec, None)
        # what was captured live, or twice here (a record and a record it embeds), stays once
        cr.execute(SQL(
            """DELETE FROM sync_change c WHERE c.id > %s AND c.origin_system_ids IS NULL AND EXISTS (
                   SELECT FROM sync_change o WHERE o.model = c.model AND o.res_id = c.res_id
                   AND o.operation = c.operation AND o.origin_system_ids IS NULL AND o.id < c.id)""",
            last_id,
        ))
        _logger.info("Captured the changes of the modules loaded before the suite in this run")
