import logging
import time
from datetime import timedelta

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from odoo.addons.sync_base import compat

from ..lib import compare

_logger = logging.getLogger(__name__)

#: records compared per step of a run: one transaction, committed by the cron runner
BATCH = 500
#: the phases of a run: the records sent here, then the bindings kept here, then what the other side lists
PHASES = [("here", "Records Sent Here"), ("bound", "Bindings Kept Here"), ("holdings", "Records Listed There")]
COUNTED = [outcome for outcome, _label in compare.OUTCOMES]


class SyncCompareRun(models.Model):
    """One comparison of what a data type sends to a system with what the system holds.

    A run is processed by the scheduler ``ir_cron_compare`` in steps of
    ``BATCH`` records, each step its own transaction, so that it runs in
    bounded memory, shows its progress, can be stopped and resumed, and never
    locks the records it reads.  Records in step are counted; every other
    outcome is kept as a line (``sync.compare.line``) to repair from.
    """

    _name = "sync.compare.run"
    _description = "Synchronization Comparison"
    _order = "id desc"

    system_id = fields.Many2one("sync.system", required=True, readonly=True, ondelete="cascade", index=True)
    data_type_id = fields.Many2one("sync.data.type", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="system_id.company_id", store=True)
    state = fields.Selection(compare.RUN_STATES, required=True, default="queued", readonly=True, index=True)
    trigger = fields.Selection([("manual", "By a Person"), ("scheduled", "Scheduled")], required=True,
                               default="manual", readonly=True)
    user_id = fields.Many2one("res.users", string="Started By", readonly=True, default=lambda self: self.env.user)
    auto_repair = fields.Boolean(readonly=True, help="Repair what the comparison finds as soon as it is done.")
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 1))
    phase = fields.Selection(PHASES, default="here", required=True, readonly=True)
    cursor = fields.Integer(readonly=True, help="The last local record id the current phase got to.")
    total_count = fields.Integer(string="Compared", readonly=True)
    in_step_count = fields.Integer(string="In Step", readonly=True)
    differs_count = fields.Integer(string="Differ", readonly=True)
    missing_count = fields.Integer(string="Missing There", readonly=True)
    only_there_count = fields.Integer(string="Only There", readonly=True)
    not_sent_count = fields.Integer(string="Not Sent", readonly=True)
    error_count = fields.Integer(string="Not Comparable", readonly=True)
    drift_count = fields.Integer(compute="_compute_drift_count", store=True, string="Drift")
    note = fields.Text(readonly=True, help="What this comparison could not look at, and why.")
    error = fields.Text(readonly=True)
    line_ids = fields.One2many("sync.compare.line", "run_id", string="Findings", readonly=True)
    repaired_at = fields.Datetime(readonly=True)

    @api.depends("differs_count", "missing_count", "only_there_count", "not_sent_count")
    def _compute_drift_count(self):
        for run in self:
            run.drift_count = sum(run[f"{outcome}_count"] for outcome in compare.DRIFT)

    @api.depends("system_id", "data_type_id", "create_date")
    def _compute_display_name(self):
        for run in self:
            when = fields.Datetime.to_string(fields.Datetime.context_timestamp(run, run.create_date))[:16] \
                if run.create_date else ""
            run.display_name = f"{run.data_type_id.name} \u2192 {run.system_id.name} {when}".strip()

    # ------------------------------------------------------------------
    # Starting
    # ------------------------------------------------------------------
    @api.model
    def _start(self, systems, data_types, trigger="manual"):
        """Queue a comparison of each pair of ``systems`` and ``data_types`` that sends anything; return the runs.

        A pair with a comparison still queued or running gets no second one.
        Raises :class:`UserError` when no pair can be compared, saying why.
        """
        if not self.env.user.has_group("sync_base.group_sync_manager") and not self.env.su:
            raise AccessError(_("Only synchronization managers can compare systems."))
        runs = self.browse()
        reasons = []
        Transport = self.env["sync.transport"]
        for system in systems.sudo():
            unsupported = Transport._compare_unsupported(system)
            if unsupported:
                reasons.append(unsupported)
                continue
            for data_type in data_types.sudo().filtered(lambda d, s=system: s in d.system_ids and d.enabled):
                open_run = self.sudo().search([("system_id", "=", system.id), ("data_type_id", "=", data_type.id),
                                               ("state", "in", ("queued", "running"))], limit=1)
                runs |= open_run or self.sudo().create({
                    "system_id": system.id, "data_type_id": data_type.id, "trigger": trigger,
                    "auto_repair": trigger == "scheduled" and data_type.compare_auto_repair,
                    "user_id": self.env.user.id,
                })
        if not runs:
            raise UserError("\n".join(reasons) or _("Nothing to compare: no enabled data type sends to this system."))
        self._wake()
        return runs.with_env(self.env)

    @api.model
    def _wake(self):
        cron = self.sudo().env.ref("sync_queue.ir_cron_compare", raise_if_not_found=False)
        if cron and cron.active:
            cron._trigger()

    @api.model
    def _list_action(self, domain, name=None):
        """The window of the runs of ``domain``, newest first."""
        return {
            "type": "ir.actions.act_window",
            "res_model": "sync.compare.run",
            "name": name or _("Comparisons"),
            "views": [(False, "list"), (False, "form")],
            "domain": domain,
        }

    def _open_action(self):
        """The window of these runs: the form of one, else the list."""
        if len(self) == 1:
            return dict(self._list_action([("id", "=", self.id)]), res_id=self.id, views=[(False, "form")])
        return self._list_action([("id", "in", self.ids)])

    # ------------------------------------------------------------------
    # User actions
    # ------------------------------------------------------------------
    def _check_manager(self):
        if not self.env.user.has_group("sync_base.group_sync_manager"):
            raise AccessError(_("Only synchronization managers can start, stop or repair comparisons."))

    def action_stop(self):
        """Stop the queued or running comparisons; what they found so far is kept, and Resume goes on."""
        self._check_manager()
        self.filtered(lambda r: r.state in ("queued", "running")).sudo().write({"state": "stopped"})
        return True

    def action_resume(self):
        """Go on with stopped or failed comparisons from where they were."""
        self._check_manager()
        self.filtered(lambda r: r.state in ("stopped", "failed")).sudo().write({"state": "queued", "error": False})
        self._wake()
        return True

    def action_repair(self):
        """Repair what the comparisons found: see ``sync.compare.line.action_repair``."""
        self._check_manager()
        lines = self.line_ids.filtered(lambda line: not line.repaired)
        if not lines:
            raise UserError(_("Nothing to repair: the comparison found no drift, or it was repaired already."))
        return lines.action_repair()

    def action_view_lines(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "sync.compare.line",
            "name": _("Findings"),
            "views": [(False, "list"), (False, "form")],
            "domain": [("run_id", "=", self.id)],
            "context": {"search_default_drift": 1},
        }

    # ------------------------------------------------------------------
    # The scheduler
    # ------------------------------------------------------------------
    @api.model
    def _cron_compare(self):
        """Start the scheduled comparisons that are due, then go one step further in the oldest open run."""
        self._start_due()
        self.flush_model()
        # one worker per run: a run another worker holds is skipped, never waited on
        self.env.cr.execute(SQL(
            "SELECT id FROM sync_compare_run WHERE state IN ('queued', 'running') ORDER BY id "
            "LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED"))
        row = self.env.cr.fetchone()
        if not row:
            compat.cron_progress(self.env, 0, 0)
            return
        run = self.sudo().browse(row[0])
        run._step()
        remaining = self.sudo().search_count([("state", "in", ("queued", "running"))])
        compat.cron_progress(self.env, 1, remaining)

    @api.model
    def _start_due(self):
        """Queue the scheduled comparisons of data types whose interval has passed since their last one."""
        now = fields.Datetime.now()
        for data_type in self.env["sync.data.type"].sudo().search([("compare_interval", ">", 0),
                                                                   ("enabled", "=", True)]):
            for system in data_type.system_ids.filtered("active"):
                last = self.sudo().search([("system_id", "=", system.id), ("data_type_id", "=", data_type.id),
                                           ("trigger", "=", "scheduled")], limit=1)
                if last and last.create_date > now - timedelta(hours=data_type.compare_interval):
                    continue
                if self.env["sync.transport"]._compare_unsupported(system):
                    continue
                self.sudo()._start(system, data_type, trigger="scheduled")

    @api.model
    def _vacuum(self):
        """Remove finished comparisons older than the retention of finished messages; return how many."""
        days = self.env["res.config.settings"]._sync_queue_param("sync_queue.vacuum_days")
        old = self.sudo().search([("state", "in", ("done", "failed", "stopped")),
                                  ("create_date", "<", fields.Datetime.now() - timedelta(days=days))], limit=1000)
        count = len(old)
        old.unlink()
        return count

    # ------------------------------------------------------------------
    # One step
    # ------------------------------------------------------------------
    def _step(self):
        """Compare the next batch of this run in the current transaction; finish the run after its last batch."""
        self.ensure_one()
        t0 = time.monotonic()
        if self.state == "queued":
            self.write({"state": "running", "started_at": self.started_at or fields.Datetime.now()})
        try:
            unsupported = self.env["sync.transport"]._compare_unsupported(self.system_id)
            if unsupported:
                raise UserError(unsupported)
            with self.env.cr.savepoint():
                method = getattr(self, f"_step_{self.phase}")
                found = method()
        except UserError as exc:
            self._fail(exc.args[0])
            return
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            # a serialization failure, a lost connection: the cron runner's transaction is at fault, not the run;
            # it rolls back and the step is taken again
            raise
        except Exception as exc:
            _logger.exception("Comparison %s failed", self.id)
            self._fail(f"{type(exc).__name__}: {exc}")
            return
        self.duration += time.monotonic() - t0
        if found is None:
            self._next_phase()

    def _fail(self, reason):
        self.write({"state": "failed", "error": _("%(reason)s\nResume goes on from where it stopped.",
                                                  reason=reason)})

    def _next_phase(self):
        order = [phase for phase, _label in PHASES]
        position = order.index(self.phase)
        if position + 1 < len(order):
            self.write({"phase": order[position + 1], "cursor": 0})
            return
        self.write({"state": "done", "finished_at": fields.Datetime.now()})
        self._finished()

    def _finished(self):
        """A run is done: repair it where its data type says so, and tell the managers of a scheduled drift."""
        if not self.drift_count:
            return
        # the data type's setting now: switched off while the run went on, nothing is repaired
        if self.auto_repair and self.data_type_id.compare_auto_repair:
            self.line_ids._repair()
        if self.trigger == "scheduled":
            managers = compat.group_users(self.env.ref("sync_base.group_sync_manager")).filtered(
                lambda user: not user.share)
            self.system_id.message_post(
                body=_("The scheduled comparison of %(data_type)s found %(count)s record(s) out of step "
                       "(%(details)s)%(repaired)s.", data_type=self.data_type_id.name, count=self.drift_count,
                       details=", ".join(f"{label}: {self[f'{outcome}_count']}" for outcome, label
                                         in compare.OUTCOMES if outcome in compare.DRIFT and self[f"{outcome}_count"]),
                       repaired=_(", repaired automatically") if self.auto_repair else ""),
                partner_ids=managers.partner_id.ids, message_type="notification", subtype_xmlid="mail.mt_note",
            )

    def _scope(self, records):
        """Of ``records`` (which exist), those the data type sends to the system now: domain, conditions,
        company."""
        data_type = self.data_type_id
        return data_type._filter_company(data_type._filter_matching(records), self.system_id)

    def _sent_by_another(self, records):
        """Of ``records``, those another enabled data type of the same model sends to the system: what it
        holds of them is that data type's business."""
        others = self.env["sync.data.type"].sudo().search([
            ("model_name", "=", self.data_type_id.model_name), ("enabled", "=", True),
            ("id", "!=", self.data_type_id.id), ("system_ids", "in", self.system_id.ids)])
        covered = records.browse()
        for other in others:
            covered |= other._filter_company(other._filter_matching(records - covered), self.system_id)
        return covered

    def _repair_blocked(self):
        """Why nothing of this run can be repaired now (a sentence), or None."""
        system, data_type = self.system_id, self.data_type_id
        if not system.active:
            return _("system %(system)s is archived", system=system.name)
        if not data_type.enabled:
            return _("%(data_type)s is disabled", data_type=data_type.name)
        if system not in data_type.system_ids:
            return _("%(data_type)s no longer sends to %(system)s", data_type=data_type.name, system=system.name)
        return None

    def _unsent_records(self, res_ids, operation):
        """The ids among ``res_ids`` with a message of ``operation`` of this run's data type to its system that
        waits in the queue, not sent yet."""
        self.env["sync.message"].flush_model()
        self.env.cr.execute(SQL(
            "SELECT DISTINCT res_id FROM sync_message WHERE system_id = %s AND data_type_id = %s AND model = %s "
            "AND res_id = ANY(%s) AND operation = %s AND state IN ('pending', 'waiting')",
            self.system_id.id, self.data_type_id.id, self.data_type_id.model_name, list(res_ids), operation))
        return {row[0] for row in self.env.cr.fetchall()}

    def _last_states(self, res_ids):
        """``{res_id: state}`` of the last message of each record of the data type to the system."""
        self.env["sync.message"].flush_model()
        self.env.cr.execute(SQL(
            "SELECT DISTINCT ON (res_id) res_id, state FROM sync_message WHERE system_id = %s AND data_type_id = %s "
            "AND model = %s AND res_id = ANY(%s) ORDER BY res_id, id DESC",
            self.system_id.id, self.data_type_id.id, self.data_type_id.model_name, list(res_ids)))
        return dict(self.env.cr.fetchall())

    def _step_here(self):
        """Compare the next batch of records the data type sends now; None once the last batch is done."""
        data_type = self.data_type_id
        Model = self.env[data_type.model_name].sudo().with_context(active_test=False)
        batch = Model.search([("id", ">", self.cursor)] + data_type._get_domain(), order="id", limit=BATCH)
        if not batch:
            return None
        records = data_type._filter_company(batch, self.system_id)
        documents, errors = {}, {}
        for record, document, error in data_type._serialize_collect(records, self.system_id):
            if error:
                errors[record.id] = error.args[0] if error.args else str(error)
            else:
                documents[record.id] = document
        there = self.env["sync.transport"]._compare_records(self.system_id, data_type, documents) \
            if documents else {}
        states = self._last_states(records.ids)
        names = self._names(records)
        findings = []
        for record_id in records.ids:
            exists, remote_ref, differences = there.get(record_id, (False, None, None))
            error = errors.get(record_id)
            if exists is None:  # the other side could not build its counterpart: it says why
                error, differences = error or _("The other side: %(reason)s", reason=differences), None
            outcome = compare.classify(True, exists, differences, states.get(record_id), error)
            findings.append((outcome, record_id, remote_ref, differences, error, names.get(record_id)))
        self._record(findings)
        self.cursor = batch[-1].id
        return len(batch) if len(batch) == BATCH else None

    def _step_bound(self):
        """Look at the next batch of records bound here that the data type does not send (any more)."""
        data_type = self.data_type_id
        self.env["sync.binding"].flush_model()
        self.env.cr.execute(SQL(
            "SELECT res_id, remote_ref FROM sync_binding WHERE system_id = %s AND model = %s AND res_id > %s "
            "ORDER BY res_id LIMIT %s", self.system_id.id, data_type.model_name, self.cursor, BATCH))
        rows = self.env.cr.fetchall()
        if not rows:
            return None
        self.cursor = rows[-1][0]
        candidates = self._not_sent_here([res_id for res_id, _ref in rows])
        if candidates:
            there = self.env["sync.transport"]._compare_records(self.system_id, data_type,
                                                                dict.fromkeys(candidates))
            self._record_gone(candidates, there)
        return len(rows) if len(rows) == BATCH else None

    def _step_holdings(self):
        """Look at the next page of what the other side lists as ours; None at the end, or when it cannot list."""
        data_type = self.data_type_id
        # pages as large as the digest protocol takes: what is listed costs no document
        page = self.env["sync.transport"]._compare_holdings(self.system_id, data_type, self.cursor,
                                                            compare.DIGEST_BATCH)
        if page is None:
            self.note = _("The transport of %(system)s cannot list what it holds: records only there were "
                          "looked for among those bound here.", system=self.system_id.name)
            return None
        rows, following = page
        if rows:
            self.env.cr.execute(SQL(
                "SELECT res_id FROM sync_binding WHERE system_id = %s AND model = %s AND res_id = ANY(%s)",
                self.system_id.id, data_type.model_name, [res_id for res_id, _ref in rows]))
            bound = {row[0] for row in self.env.cr.fetchall()}
            candidates = self._not_sent_here([res_id for res_id, _ref in rows if res_id not in bound])
            listed = dict(rows)
            self._record_gone(candidates, {res_id: (True, listed[res_id], None) for res_id in candidates})
        if following is None:
            return None
        self.cursor = following
        return len(rows)

    def _not_sent_here(self, res_ids):
        """Of ``res_ids``, those that no enabled data type sends to the system now (gone, or out of scope)."""
        existing = self.env[self.data_type_id.model_name].sudo().with_context(active_test=False).browse(
            res_ids).exists()
        sent = self._scope(existing)
        sent |= self._sent_by_another(existing - sent)
        sent_ids = set(sent.ids)
        return [res_id for res_id in res_ids if res_id not in sent_ids]

    def _names(self, records):
        """``{id: name}`` of ``records`` for the findings, read by every synchronization user: as a message's
        name, never the name of a record the data type's owner may not read (model and id instead)."""
        names = self.env["sync.message"]._record_names(records)
        for record_id in self.data_type_id._owner_unreadable(records):
            names[record_id] = f"{records._name},{record_id}"
        return names

    def _record_gone(self, res_ids, there):
        states = self._last_states(res_ids)
        existing = self.env[self.data_type_id.model_name].sudo().with_context(active_test=False).browse(
            res_ids).exists()
        names = self._names(existing)
        findings = []
        for res_id in res_ids:
            exists, remote_ref, _diff = there.get(res_id, (False, None, None))
            # a counterpart the other side holds but cannot build a document of is still there
            outcome = compare.classify(False, exists is not False, None, states.get(res_id))
            if outcome:
                name = names.get(res_id) or _("%(model)s,%(id)s (deleted here)",
                                              model=self.data_type_id.model_name, id=res_id)
                findings.append((outcome, res_id, remote_ref, None, None, name))
        self._record(findings)

    def _record(self, findings):
        """Count ``findings`` (``(outcome, res_id, remote_ref, diff, error, name)``) and keep those out of step."""
        counts = dict.fromkeys(COUNTED, 0)
        lines = []
        for outcome, res_id, remote_ref, differences, error, name in findings:
            counts[outcome] += 1
            if outcome != "in_step":
                lines.append({"run_id": self.id, "outcome": outcome, "model": self.data_type_id.model_name,
                              "res_id": res_id, "remote_ref": remote_ref, "diff": differences or False,
                              "error": error, "record_name": name})
        if lines:
            self.env["sync.compare.line"].sudo().create(lines)
        values = {f"{outcome}_count": self[f"{outcome}_count"] + count for outcome, count in counts.items() if count}
        self.write(dict(values, total_count=self.total_count + len(findings)))
