"""The send queue, part 2: claiming due messages under a lease, in order, and freezing their envelopes."""

import collections
import logging
import time
from datetime import datetime, timedelta

import psycopg2.errors

from odoo import _, fields, models
from odoo.tools import SQL

from odoo.addons.sync_base.lib import envelope as envelope_lib

from ..lib import claim as claim_lib
from ..lib import states
from .sync_message import CLAIM_WINDOW, HOLD_SECONDS

# one logger for the whole model, whichever file a method lives in: operators set its level by that name
_logger = logging.getLogger(__name__.rpartition("_")[0])
# what freezing reads of a message without an envelope (one query, no records: the send queue's hot path)
FreezeRow = collections.namedtuple("FreezeRow", "id data_type_id system_id model res_id operation uuid create_date "
                                                "deletion_info")

class Claimed(list):
    """``[(id, envelope)]`` of a claimed batch; ``held_back`` when there was more to look at than went: every
    due message looked at waits for another, or some failed while their envelope was built."""

    def __init__(self, items=(), held_back=False, attempts=None):
        super().__init__(items)
        self.held_back = held_back and not self
        # {id: attempt_count} this claim gave the messages: its results are for that attempt only
        self.attempts = attempts or {}


class FrozenEnvelopes(dict):
    """``{message id: envelope text}`` of envelopes frozen now; ``built``: ``{message id: envelope}``, the dicts
    they are the canonical dumps of, which the claim hands to the transport without parsing its own text;
    ``failed``: ``{message id: reason}`` of the messages that could not be built."""

    def __init__(self):
        super().__init__()
        self.built = {}
        self.failed = {}


class SyncMessageClaim(models.Model):
    _inherit = "sync.message"

    def _claim(self, system, settings):
        """Claim a batch of due messages in a separate, committed transaction; return a :class:`Claimed`
        ``[(id, envelope)]``, empty with ``held_back`` set when every due message looked at must wait.

        Row locks that skip locked rows: two workers never claim one message.
        A message left by a dead worker (``recovered``) is claimed alone, with only the recovered messages
        its document references (a cycle of references that died together).  A
        claim that meets a concurrent update (an acknowledgement of a row it
        looked at) starts again from a fresh snapshot.
        """
        for attempt in range(3):
            try:
                return self._claim_batch(system, settings)
            except (psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected):
                _logger.info("Claiming for %s met a concurrent update; again (%s)", system.code, attempt + 1)
                time.sleep(0.05 * (attempt + 1))
        return Claimed()

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
               AND m.state IN %(due)s
               AND m.next_attempt_at <= %(now)s
               AND (m.next_attempt_at, m.id) > (%(after_at)s, %(after_id)s)
               %(extra)s
             ORDER BY m.next_attempt_at, m.id
             LIMIT %(size)s
            """,
            system=system.id, now=now, extra=extra, size=size, after_at=after_at, after_id=after_id, due=states.DUE,
        )

    def _claim_query(self, ids, now, limit):
        """Of the candidates ``ids``, those that may go now, locked, skipping those another worker holds."""
        return SQL(
            """
            SELECT m.id FROM sync_message m
             WHERE m.id = ANY(%(ids)s)
               AND m.state IN %(due)s
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
            ids=ids, now=now, free=states.FINAL, limit=limit, due=states.DUE,
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
                return Claimed()
            candidates = env["sync.message"].browse(rows)

            def pull(ids):
                cr.execute(self._claim_query(list(ids), now, len(ids)))
                return env["sync.message"].browse([row[0] for row in cr.fetchall()])

            def pull_recovered(ids):
                # what died with it: a cycle of references recovered together can only go together again (claimed
                # alone, each member would wait for the other for ever); a killer among them still fails, each
                # death counting an attempt of every member
                cr.execute(SQL("SELECT id FROM sync_message WHERE id = ANY(%s) AND recovered", list(ids)))
                together = [row[0] for row in cr.fetchall()]
                return pull(together) if together else env["sync.message"]

            # a recovered message goes alone, but for the recovered messages its document needs
            messages = candidates._hold_for_references(now, pull=pull_recovered if recovered else pull)
            if not messages:
                return Claimed(held_back=True)
            lease = now + timedelta(seconds=settings["lease"])
            env.flush_all()
            cr.execute(SQL(
                "UPDATE sync_message SET state = 'sending', lease_until = %s, "
                "attempt_count = COALESCE(attempt_count, 0) + 1, waiting_reason = NULL, write_date = %s "
                "WHERE id = ANY(%s) RETURNING id, attempt_count",
                lease, now, messages.ids,
            ))
            attempts = dict(cr.fetchall())
            claimed_ids = messages.ids
        # from the commit of the claim on, this worker keeps the batch's lease alive while it works on it
        if settings.get("lease_keeper"):
            settings["lease_keeper"].hold(claimed_ids)
        # Envelopes are built after the claim is committed: a record whose serialization never ends (a code
        # line that loops, a string that fills the memory) kills its worker with its batch under a lease, and
        # each of them is then recovered and claimed alone, so that record fails alone after its attempts.
        return Claimed(self._freeze_claimed(claimed_ids), held_back=True, attempts=attempts)

    def _freeze_claimed(self, ids):
        """Build and store the envelopes of the claimed messages ``ids`` that have none yet, in a transaction
        of their own; return ``[(id, envelope)]`` of those that can go, the others failed with the reason.

        ``envelope`` is the frozen text of an envelope frozen before, or the envelope (a dict) built now,
        whose canonical dump is the text stored."""
        with self.env.registry.cursor() as cr:
            messages = self.with_env(self.env(cr=cr)).browse(ids)
            # each message as it is now, read first: this transaction's snapshot is taken here.  Only those still
            # sending are this worker's (one refused for good by a late answer, or given up by the recovery, is
            # not sent again); their envelopes frozen at an earlier attempt go as frozen
            cr.execute(SQL("SELECT id, state, envelope FROM sync_message WHERE id = ANY(%s)", ids))
            rows = {message_id: (state, envelope) for message_id, state, envelope in cr.fetchall()}
            ready = [message_id for message_id in ids if rows.get(message_id, ("",))[0] == "sending"]
            before = {message_id: rows[message_id][1] for message_id in ready if rows[message_id][1]}
            frozen = messages.browse(ready)._freeze_envelopes()
        # stored apart from the build: a lease kept alive meanwhile (LeaseKeeper) commits on these rows after the
        # build's snapshot was taken, which would make the build's own writes fail
        going = self._store_frozen(ready, frozen)
        built = getattr(frozen, "built", {})
        # an envelope built now goes as built (the dict that its frozen text is the dump of): not parsed back
        return [(message_id, built.get(message_id) or frozen.get(message_id) or before[message_id])
                for message_id in ready if message_id in going and (message_id in frozen or message_id in before)]

    def _store_frozen(self, ids, frozen):
        """Store the envelopes and the build failures of ``frozen`` (a :class:`FrozenEnvelopes` of the claimed
        messages ``ids``) in a short transaction of their own, again after a concurrent update; return the ids
        still ``sending`` and not failed: those that may go.  When it cannot be stored, nothing goes: the batch
        is recovered when its lease ends."""
        failures = getattr(frozen, "failed", {})

        def store(env):
            env.cr.execute(SQL("SELECT id FROM sync_message WHERE id = ANY(%s) AND state = 'sending' ORDER BY id "
                               "FOR UPDATE", ids))
            sending = {row[0] for row in env.cr.fetchall()}
            for message_id, reason in failures.items():
                if message_id in sending:
                    env["sync.message"].browse(message_id)._fail_build(reason)
            env.flush_all()
            texts = {message_id: text for message_id, text in frozen.items() if message_id in sending}
            if texts:
                # rows found by their key, each envelope picked by its position: no join, whose plan would follow
                # the statistics (a nearly empty queue has the planner scan the whole table for each batch; a
                # queue of frozen envelopes, unnest the batch again for each row)
                env.cr.execute(SQL(
                    "UPDATE sync_message m SET envelope = (%s::text[])[array_position(%s::int[], m.id)] "
                    "WHERE m.id = ANY(%s) AND COALESCE(m.envelope, '') = ''",
                    list(texts.values()), list(texts), list(texts),
                ))
            return sending - set(failures)

        stored, going = self._in_own_transaction(store, f"Storing the envelopes of {len(ids)} messages")
        if not stored:
            _logger.warning("Could not store the envelopes of %s messages: their lease will expire and they go "
                            "again", len(ids))
            return set()
        return going

    def _hold_for_references(self, now, pull=None):
        """The messages free to go, referenced records first; the others wait, and say for what.

        A message whose document references a record that has a message to the
        same system not yet done waits for it, unless that message goes in the
        same batch.  ``pull(ids)``, when given, claims such messages that are
        due with the batch (a cycle of references goes together, also when it
        straddles the end of a batch), once.  The rules are
        :mod:`..lib.claim`'s; this method reads their rows and writes the holds.
        """
        system_id, candidates = self._claim_candidates()
        keys = claim_lib.referenced_keys(candidates)
        deletions = any(candidate.operation == "delete" for candidate in candidates)
        if not keys and not deletions:
            return self
        unfinished = {}
        if keys:
            self.env.cr.execute(SQL(
                "SELECT model, res_id, id, uuid, state, next_attempt_at <= %s, operation FROM sync_message "
                "WHERE system_id = %s AND state NOT IN %s AND (model, res_id) IN %s",
                now, system_id, states.FINAL, tuple(keys),
            ))
            for model, res_id, *row in self.env.cr.fetchall():
                unfinished.setdefault((model, res_id), []).append(claim_lib.Unfinished(*row))
        held = claim_lib.holds(candidates, unfinished)
        if deletions:
            # the frozen documents that may still arrive (other batches: on the network, awaiting their
            # acknowledgement, or going again), found by the state's index
            self.env.cr.execute(SQL(
                "SELECT id, uuid, reference_keys, state FROM sync_message WHERE system_id = %s "
                "AND (state IN ('sending', 'sent', 'retry') OR (state = 'waiting' AND attempt_count > 0)) "
                "AND reference_keys IS NOT NULL AND NOT (id = ANY(%s))", system_id, self.ids,
            ))
            in_flight = [claim_lib.InFlight(*row) for row in self.env.cr.fetchall()]
            for candidate_id, found in claim_lib.deletion_holds(candidates, in_flight).items():
                held.setdefault(candidate_id, []).extend(found)
        if held and pull:
            extra = pull(due) if (due := claim_lib.to_pull(held)) else self.browse()
            if extra:
                return (self | extra)._hold_for_references(now)
        by_id = {candidate.id: candidate for candidate in candidates}
        for message in self.browse(list(held)):
            candidate = by_id[message.id]
            (model, res_id), blocker = held[message.id][0]
            if (model, res_id) == (message.model, message.res_id):
                reason = _("Waits for message %(uuid)s (%(state)s), whose document references this record: "
                           "deleted before that document is answered, the record would be gone for it.",
                           uuid=blocker.uuid, state=blocker.state)
            else:
                reason = _("Waits for message %(uuid)s of %(model)s,%(res_id)s (%(state)s), which its document "
                           "references.", uuid=blocker.uuid, model=model, res_id=res_id, state=blocker.state)
            message.write({
                "state": claim_lib.held_state(candidate.state, candidate.attempt_count),
                "next_attempt_at": now + timedelta(seconds=HOLD_SECONDS),
                "waiting_reason": reason,
            })
        return self.browse(claim_lib.send_order([c for c in candidates if c.id not in held]))

    def _claim_candidates(self):
        """``(system id, candidates)``: the messages as the claim's decisions see them, in their order, as plain
        rows read in one query (no records: the send queue's hot path)."""
        self.flush_model()
        self.env.cr.execute(SQL(
            "SELECT id, model, res_id, reference_keys, state, attempt_count, operation, system_id FROM sync_message "
            "WHERE id = ANY(%s)", self.ids,
        ))
        rows = {row[0]: row for row in self.env.cr.fetchall()}
        system_id, candidates = None, []
        for message_id in self.ids:
            if message_id in rows:
                _id, model, res_id, keys, state, attempt_count, operation, system_id = rows[message_id]
                candidates.append(claim_lib.Candidate(message_id, model, res_id, [tuple(k) for k in (keys or [])],
                                                      state, attempt_count, operation))
        return system_id, candidates

    def _freeze_envelopes(self):
        """Build the envelopes of messages that have none yet: ``{message id: envelope text}`` (a
        :class:`FrozenEnvelopes`), for the claim to store.  A record that cannot be serialized fails alone."""
        source = self.env["sync.system"]._get_own_code()
        frozen = FrozenEnvelopes()
        groups = {}
        for row in self._freeze_rows():
            groups.setdefault((row.data_type_id, row.system_id), []).append(row)
        for (data_type_id, system_id), messages in groups.items():
            data_type = self.env["sync.data.type"].browse(data_type_id)
            system = self.env["sync.system"].browse(system_id)
            model_name = data_type.model_name
            if model_name not in self.env:
                reason = _("%(data_type)s maps %(model)s, which is not installed.", data_type=data_type.display_name,
                           model=model_name)
                frozen.failed.update(dict.fromkeys([message.id for message in messages], reason))
                continue
            # a data type switched to another model after its messages were queued: a record of that model with
            # the same id is not theirs
            for message in messages:
                if message.model != model_name:
                    frozen.failed[message.id] = _(
                        "Its data type %(data_type)s now maps %(model)s, not %(own)s: requeue the record from a data "
                        "type of its model.", data_type=data_type.display_name, model=model_name, own=message.model)
            messages = [message for message in messages if message.id not in frozen.failed]
            targets = system._get_targets()
            # read once per group, not once per envelope: a field read costs more than the envelope's own checks
            message_type = data_type.message_type or model_name.replace(".", "_")
            upserts = [message for message in messages if message.operation == "upsert"]
            records = self.env[model_name].sudo().browse([message.res_id for message in upserts]).exists()
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
                frozen.failed.update(dict.fromkeys([message.id for message in upserts], reason))
                messages = [message for message in messages if message.operation != "upsert"]
            for message in messages:
                if message.operation == "delete":
                    try:
                        payload = self._deletion_payload(message, system)
                    except (TypeError, ValueError) as exc:
                        frozen.failed[message.id] = _("Its deletion information cannot be read: %(error)s", error=exc)
                        continue
                else:
                    document, error = documents.get(message.res_id, (None, None))
                    if error or document is None:
                        frozen.failed[message.id] = (
                            error.args[0] if error else _("The record no longer exists or left the company."))
                        continue
                    payload = document
                envelope = envelope_lib.build(
                    message_type, message.operation, source, targets, message.model, message.res_id, payload,
                    message_id=message.uuid,
                    created_at=message.create_date,
                )
                frozen[message.id] = envelope_lib.dumps(envelope)
                frozen.built[message.id] = envelope
        return frozen

    def _freeze_rows(self):
        """Of these messages, those without an envelope, as :class:`FreezeRow` plain rows in their order."""
        self.flush_model()
        self.env.cr.execute(SQL(
            "SELECT id, data_type_id, system_id, model, res_id, operation, uuid, create_date, deletion_info "
            "FROM sync_message WHERE id = ANY(%s) AND COALESCE(envelope, '') = ''", self.ids,
        ))
        rows = {row[0]: FreezeRow(*row) for row in self.env.cr.fetchall()}
        return [rows[message_id] for message_id in self.ids if message_id in rows]

    def _fail_build(self, reason):
        self.ensure_one()
        self.write({"state": "failed", "last_error": reason, "failure_kind": "build"})
        self._log_attempt("permanent", reason, 0.0)

    def _deletion_payload(self, message, system):
        binding = self.env["sync.binding"].sudo().search(
            [("system_id", "=", system.id), ("model", "=", message.model), ("res_id", "=", message.res_id)], limit=1)
        payload = dict(message.deletion_info or {})
        if binding:
            # the receiver's id beside the primary values, under a key no property can have
            payload[envelope_lib.BINDING_REF] = binding.remote_ref
        return payload

