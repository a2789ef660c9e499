"""The send queue, part 3: batches handed to the transport, results, retries and bindings stored."""

import concurrent.futures
import json
import logging
import threading
import time

import psycopg2.errors

from odoo import _, api, fields, models
from odoo.tools import SQL

from odoo.addons.sync_base import compat
from odoo.addons.sync_base.lib.results import ACCEPTED, ACKNOWLEDGED, PERMANENT, TransportResult

from ..lib.backoff import next_attempt
from .sync_message import RESULT_FIELDS, STORE_ATTEMPTS

# one logger for the whole model, whichever file a method lives in: operators set its level by that name
_logger = logging.getLogger(__name__.rpartition("_")[0])

class LeaseKeeper:
    """Keeps the lease of the batches a sender works on alive, from a thread with a cursor of its own.

    A batch whose envelopes take long to build or whose transport call
    outlives the lease (a slow receiver, several calls each up to the
    system's timeout) would otherwise be recovered by ``ir_cron_resend`` and
    sent a second time by another worker while the first is still on it.
    Every third of the lease, the leases of the held messages still
    ``sending`` are moved a lease further, for at most ``max_hold`` seconds a
    batch: a worker that hangs for good loses its batch as before.  The
    thread touches the database only when a batch lasts longer than a third
    of the lease.  A worker that dies takes the thread with it.
    """

    def __init__(self, registry, lease, max_hold):
        self.registry, self.lease, self.max_hold = registry, lease, max_hold
        self.held = {}  # message id: when it was held (monotonic)
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = None

    def hold(self, ids):
        """Keep the lease of the claimed messages ``ids`` until :meth:`release`."""
        with self.lock:
            now = time.monotonic()
            self.held.update(dict.fromkeys(ids, now))
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="sync-lease", daemon=True)
                self.thread.start()

    def release(self, ids):
        """The results of ``ids`` are stored: their lease no longer matters."""
        with self.lock:
            for message_id in ids:
                self.held.pop(message_id, None)

    def stop(self):
        self.stopped.set()

    def _run(self):
        while not self.stopped.wait(max(self.lease / 3, 0.2)):
            with self.lock:
                limit = time.monotonic() - self.max_hold
                ids = [message_id for message_id, since in self.held.items() if since > limit]
            if ids:
                self._extend(ids)

    def _extend(self, ids):
        try:
            with self.registry.cursor() as cr:
                cr.execute(SQL(
                    "UPDATE sync_message SET lease_until = (now() AT TIME ZONE 'UTC') + make_interval(secs => %s) "
                    "WHERE id = ANY(%s) AND state = 'sending'", self.lease, ids,
                ))
        except Exception:
            _logger.warning("Extending the lease of %s messages failed", len(ids), exc_info=True)


class SyncMessageSend(models.Model):
    _inherit = "sync.message"

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------
    def _settings(self):
        settings = self.env["res.config.settings"]
        return {
            # within their ranges (a budget of 0 would send nothing, ever), else their defaults
            "budget": settings._sync_queue_param("sync_queue.send_time_budget"),
            "lease": settings._sync_queue_param("sync_queue.lease_seconds"),
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
        compat.cron_progress(self.env, sent, 0)
        return sent

    def _send_system(self, system, settings, deadline):
        """Send batches of ``system`` until none is due or the deadline; return how many messages were sent.

        When the transport can deliver in a worker thread, the next batch is
        claimed and prepared while the previous one is on the network: one
        batch at most is in flight, and the claim never takes a message
        whose record has an earlier one in flight.
        """
        sent = 0
        in_flight = None
        keeper = LeaseKeeper(self.env.registry, settings["lease"], settings["budget"] + settings["lease"])
        settings = dict(settings, lease_keeper=keeper)
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sync-send") as pool:
            try:
                while time.monotonic() < deadline:
                    count, held_back, in_flight_next = self._send_batch(system, settings, pool)
                    # the new batch is tracked before the previous one is stored: never dropped if that raises
                    previous, in_flight = in_flight, in_flight_next
                    if previous:
                        self._finish_in_flight(system, previous, keeper)
                    if not count and not held_back:
                        break
                    sent += count
            finally:
                if in_flight:
                    self._finish_in_flight(system, in_flight, keeper)
                keeper.stop()
        return sent

    def _send_batch(self, system, settings, pool=None):
        """Claim and send a batch; ``(count, held back, in flight)``: ``held back`` when nothing went but there
        is more to look at; ``in flight`` is ``(ids, future, started)`` when the delivery runs in ``pool``, its
        results to be stored by :meth:`_finish_in_flight`."""
        # raw SQL and a separate cursor follow: pending ORM writes go first
        self.env.flush_all()
        claimed = self._claim(system, settings)
        if not claimed:
            return 0, claimed.held_back, None
        ids = [message_id for message_id, _e in claimed]
        envelopes = [json.loads(envelope) for _id, envelope in claimed]
        started = time.monotonic()
        try:
            deliver = system._send_envelopes_deferred(envelopes) if pool else None
            if deliver:
                return len(claimed), False, (ids, pool.submit(deliver), started, claimed.attempts)
            results = system._send_envelopes(envelopes)
        except Exception as exc:  # noqa: BLE001 - a failing transport fails its batch, never the scheduler
            results = self._failed_batch(system, exc, len(envelopes))
        self._store_results(ids, results, time.monotonic() - started, attempts=claimed.attempts)
        if settings.get("lease_keeper"):
            settings["lease_keeper"].release(ids)
        return len(claimed), False, None

    def _finish_in_flight(self, system, in_flight, keeper=None):
        ids, future, started, attempts = in_flight
        try:
            results = future.result()
        except Exception as exc:  # noqa: BLE001 - a failing transport fails its batch, never the scheduler
            results = self._failed_batch(system, exc, len(ids))
        self._store_results(ids, results, time.monotonic() - started, attempts=attempts)
        if keeper:
            keeper.release(ids)

    def _failed_batch(self, system, exc, count):
        _logger.info("Transport of %s failed: %s", system.code, exc)
        return [TransportResult.transient(f"{type(exc).__name__}: {exc}")] * count

    def _store_results(self, ids, results, duration, attempts=None):
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
                    env["sync.message"].browse(ids)._apply_results(results, duration / len(ids), attempts=attempts)
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

    def _apply_results(self, results, duration=0.0, replies=True, attempts=None):
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
        # only the attempt these results answer: a message recovered after its lease and claimed again by
        # another worker is that worker's now, and a late answer of this one must not move it
        current = {message.id for message in self if message.state == "sending" and (
            attempts is None or attempts.get(message.id) in (None, message.attempt_count))}
        moving = [(message, result) for message, result in zip(self, results, strict=True) if message.id in current]
        if replies:
            # what the receiver answered lands in the response queue, as an acknowledgement posted later does
            self.env["sync.response"]._insert_replies(
                [(message, result, message.id in current) for message, result in
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
                "last_error = NULL, failure_kind = NULL, lease_until = NULL, write_date = %(now)s "
                "WHERE id = ANY(%(ids)s)",
                now=now, ids=[m.id for m in done],
            ))
        if accepted:
            cr.execute(SQL(
                "UPDATE sync_message SET state = 'sent', sent_at = %(now)s, lease_until = NULL, write_date = %(now)s "
                "WHERE id = ANY(%(ids)s)", now=now, ids=[m.id for m in accepted],
            ))
        for reason, ids in failed.items():
            cr.execute(SQL(
                "UPDATE sync_message SET state = 'failed', last_error = %(reason)s, failure_kind = 'refused', "
                "lease_until = NULL, write_date = %(now)s WHERE id = ANY(%(ids)s)", reason=reason, now=now, ids=ids,
            ))
        # what identifies a message stays cached for the retries and bindings below
        self.invalidate_recordset(["state", "acked_at", "sent_at", "last_error", "error_summary", "failure_kind",
                                   "lease_until", "write_date"])
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
                "failure_kind = %(kind)s, next_attempt_at = COALESCE(%(next_at)s, next_attempt_at), "
                "write_date = %(now)s WHERE id = ANY(%(ids)s)",
                state=state, reason=reason or None, next_at=next_at, now=now, ids=ids,
                kind="outage" if state == "failed" else None,
            ))
        self.browse([message.id for message, _result in pairs]).invalidate_recordset(
            ["state", "last_error", "error_summary", "failure_kind", "lease_until", "next_attempt_at", "write_date"])

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

