"""The send queue, part 3: batches handed to the transport, results, retries and bindings stored."""

import collections
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

from ..lib import decisions
from ..lib.backoff import next_attempt
from .sync_message import STORE_ATTEMPTS

# one logger for the whole model, whichever file a method lives in: operators set its level by that name
_logger = logging.getLogger(__name__.rpartition("_")[0])

# what storing a batch's results reads of each message (one query, no records: the send queue's hot path)
# while batches are in flight and nothing new can go, the queue is looked at again after the first of these
# delays, doubling up to the second: a burst still being queued goes on without waiting for the network
POLL_SECONDS = (0.02, 0.5)
ResultRow = collections.namedtuple("ResultRow", "id state system_id model res_id operation attempt_count uuid")

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
        claimed and prepared while earlier ones are on the network: up to the
        system's ``batches_in_flight`` at once, one more prepared behind them.
        Order holds whatever the number: the claim never takes a message
        whose record has an earlier one unfinished (in flight included), and
        a message whose document references a record with an unfinished
        message waits for it unless both go in the same batch.
        """
        sent = 0
        depth = max(system.batches_in_flight or 1, 1)
        in_flight = collections.deque()
        keeper = LeaseKeeper(self.env.registry, settings["lease"], settings["budget"] + settings["lease"])
        settings = dict(settings, lease_keeper=keeper)
        poll = POLL_SECONDS[0]
        with concurrent.futures.ThreadPoolExecutor(depth, thread_name_prefix="sync-send") as pool:
            try:
                while time.monotonic() < deadline:
                    count, held_back, in_flight_next = self._send_batch(system, settings, pool)
                    sent += count
                    if in_flight_next:
                        # tracked before any earlier one is stored: never dropped if storing raises
                        in_flight.append(in_flight_next)
                        poll = POLL_SECONDS[0]
                    # the oldest batch is stored once the network is full and one more is prepared
                    while len(in_flight) > depth:
                        self._finish_in_flight(system, in_flight.popleft(), keeper)
                    if in_flight and not in_flight_next:
                        # nothing new went: the oldest batch is stored when it comes back (what it frees may go
                        # next), and meanwhile messages queued since are claimed, a short while apart
                        oldest = in_flight[0]
                        concurrent.futures.wait([oldest[1]], timeout=poll)
                        if oldest[1].done():
                            self._finish_in_flight(system, in_flight.popleft(), keeper)
                            poll = POLL_SECONDS[0]
                        else:
                            poll = min(poll * 2, POLL_SECONDS[1])
                        continue
                    if not count and not held_back:
                        break
            finally:
                while in_flight:
                    self._finish_in_flight(system, in_flight.popleft(), keeper)
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
        envelopes = [envelope if isinstance(envelope, dict) else json.loads(envelope) for _id, envelope in claimed]
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
        def store(env):
            env.cr.execute(SQL("SELECT id FROM sync_message WHERE id = ANY(%s) ORDER BY id FOR UPDATE", ids))
            env["sync.message"].browse(ids)._apply_results(results, duration / len(ids), attempts=attempts)

        # the batch was delivered: its results are worth waiting for while PostgreSQL restarts or a dropped
        # connection is replaced, rather than sending it again once the lease ends
        stored, _result = self._in_own_transaction(store, f"Storing the results of {len(ids)} messages",
                                                   wait_for_database=True)
        if not stored:
            _logger.warning("Could not store the results of %s messages: their lease will expire and they go again",
                            len(ids))

    def _in_own_transaction(self, work, what, wait_for_database=False):
        """Run ``work(env)`` in a transaction of its own, again (up to ``STORE_ATTEMPTS`` times) after a
        concurrent update and, with ``wait_for_database``, while PostgreSQL restarts or a dropped connection is
        replaced; return ``(True, its result)``, or ``(False, None)`` when no attempt went through.  ``what``
        names the work in the log."""
        for attempt in range(STORE_ATTEMPTS):
            try:
                with self.env.registry.cursor() as cr:
                    return True, work(self.env(cr=cr))
            except (psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected):
                _logger.info("%s met a concurrent update; again (%s)", what, attempt + 1)
                time.sleep(0.05 * (attempt + 1))
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
                if not wait_for_database:
                    raise
                _logger.warning("%s lost the database (%s); again (%s)", what,
                                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                                attempt + 1)
                time.sleep(min(2 ** attempt * 0.5, 10))
        return False, None

    def _apply_result(self, result, duration=0.0):
        """Move a message after an acknowledgement already stored in the response queue; an acknowledgement
        already received is never undone."""
        self.ensure_one()
        self._apply_results([result], duration, replies=False)

    def _result_rows(self):
        """``{id: ResultRow}``: what storing results reads of these messages, as plain rows, in one query."""
        self.flush_model()
        self.env.cr.execute(SQL(
            "SELECT id, state, system_id, model, res_id, operation, attempt_count, uuid FROM sync_message "
            "WHERE id = ANY(%s)", self.ids,
        ))
        return {row[0]: ResultRow(*row) for row in self.env.cr.fetchall()}

    def _apply_results(self, results, duration=0.0, replies=True, attempts=None):
        """Move messages after their transport results, set by set (the send queue's hot path).

        Only messages still ``sending`` move: an acknowledgement already
        received is never undone by a late transport result.  ``replies``:
        the results are the transport's answer to its call (not an
        acknowledgement posted later); what the receiver answered is stored
        in the response queue where it holds more than the message and its
        binding, and ``duration`` (the call's share per message) is the
        delivered message's ``send_duration``.  One statement per kind of row
        (:mod:`..lib.decisions` says which results leave which rows).
        """
        now = fields.Datetime.now()
        rows = self._result_rows()
        # a message removed meanwhile (vacuumed, or its system deleted) has nothing left to move
        pairs = [(rows[message_id], result) for message_id, result in zip(self.ids, results, strict=True)
                 if message_id in rows]
        # only the attempt these results answer: a message recovered after its lease and claimed again by
        # another worker is that worker's now, and a late answer of this one must not move it
        current = {row.id for row, _result in pairs if row.state == "sending" and (
            attempts is None or attempts.get(row.id) in (None, row.attempt_count))}
        self._insert_attempts([(row.id, result.status, result.reason) for row, result in pairs
                               if decisions.keeps_attempt(result.status, row.id in current, row.attempt_count,
                                                          in_call=replies)],
                              duration, now)
        if replies:
            self.env["sync.response"]._insert_replies(
                [(row, result, row.id in current) for row, result in pairs
                 if decisions.keeps_reply(result.status, row.id in current)], now)
        moving = [(row, result) for row, result in pairs if row.id in current]
        done = [row.id for row, result in moving if result.status == ACKNOWLEDGED]
        accepted = [row.id for row, result in moving if result.status == ACCEPTED]
        failed = {}
        for row, result in moving:
            if result.status == PERMANENT:
                failed.setdefault(result.reason, []).append(row.id)
        cr = self.env.cr
        # a posted acknowledgement keeps the duration of the call that delivered the message
        delivered = duration if replies else None
        if done:
            cr.execute(SQL(
                "UPDATE sync_message SET state = 'done', acked_at = %(now)s, sent_at = COALESCE(sent_at, %(now)s), "
                "send_duration = COALESCE(%(duration)s, send_duration), last_error = NULL, failure_kind = NULL, "
                "lease_until = NULL, write_date = %(now)s WHERE id = ANY(%(ids)s)",
                now=now, ids=done, duration=delivered,
            ))
        if accepted:
            cr.execute(SQL(
                "UPDATE sync_message SET state = 'sent', sent_at = %(now)s, send_duration = %(duration)s, "
                "lease_until = NULL, write_date = %(now)s WHERE id = ANY(%(ids)s)",
                now=now, ids=accepted, duration=delivered,
            ))
        for reason, ids in failed.items():
            cr.execute(SQL(
                "UPDATE sync_message SET state = 'failed', last_error = %(reason)s, failure_kind = 'refused', "
                "lease_until = NULL, write_date = %(now)s WHERE id = ANY(%(ids)s)", reason=reason, now=now, ids=ids,
            ))
        self.invalidate_recordset(["state", "acked_at", "sent_at", "send_duration", "last_error", "error_summary",
                                   "failure_kind", "lease_until", "write_date"])
        retrying = [(row, result) for row, result in moving
                    if result.status not in (ACKNOWLEDGED, ACCEPTED, PERMANENT)]
        if retrying:
            self._schedule_retries(retrying, now)
        self._store_bindings([(row, result) for row, result in moving if result.status == ACKNOWLEDGED])

    def _store_bindings(self, acknowledged):
        """Bindings of acknowledged messages (``(ResultRow, result)``): stored for upserts, removed for
        deletions."""
        Binding = self.env["sync.binding"].sudo()
        for system_id in {row.system_id for row, _result in acknowledged}:
            pairs = [(row, result) for row, result in acknowledged if row.system_id == system_id]
            rows = [(row.model, row.res_id, result.remote_model or row.model, result.remote_ref)
                    for row, result in pairs if row.operation == "upsert" and result.remote_ref]
            system = self.env["sync.system"].browse(system_id)
            Binding._bind_many(system, rows)
            deleted = {(row.model, row.res_id) for row, _result in pairs if row.operation == "delete"}
            if deleted:
                candidates = Binding.search([
                    ("system_id", "=", system_id),
                    ("model", "in", list({model for model, _id in deleted})),
                    ("res_id", "in", [res_id for _model, res_id in deleted]),
                ])
                candidates.filtered(lambda b, keys=deleted: (b.model, b.res_id) in keys).unlink()

    def _schedule_retries(self, pairs, now):
        """``retry`` on the system's delays for each ``(ResultRow, transient result)``, or ``failed`` once
        ``max_attempts`` is reached; one statement per distinct outcome."""
        groups = {}
        for row, result in pairs:
            system = self.env["sync.system"].browse(row.system_id)
            give_up, next_at = next_attempt(now, row.attempt_count, system._get_retry_delays(),
                                            system.max_attempts, result.retry_after)
            if give_up:
                key = ("failed", _("%(reason)s (after %(count)s attempts)", reason=result.reason,
                                   count=row.attempt_count), None)
            else:
                key = ("retry", result.reason, next_at)
            groups.setdefault(key, []).append(row.id)
        self.flush_model()
        for (state, reason, next_at), ids in groups.items():
            self.env.cr.execute(SQL(
                "UPDATE sync_message SET state = %(state)s, last_error = %(reason)s, lease_until = NULL, "
                "failure_kind = %(kind)s, next_attempt_at = COALESCE(%(next_at)s, next_attempt_at), "
                "write_date = %(now)s WHERE id = ANY(%(ids)s)",
                state=state, reason=reason or None, next_at=next_at, now=now, ids=ids,
                kind="outage" if state == "failed" else None,
            ))
        self.browse([row.id for row, _result in pairs]).invalidate_recordset(
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

