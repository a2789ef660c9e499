import json

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..lib import compare


class SyncCompareLine(models.Model):
    """A record that a comparison found out of step (or could not compare), and what to do about it."""

    _name = "sync.compare.line"
    _description = "Synchronization Comparison Finding"
    _order = "run_id desc, outcome, res_id"
    _rec_name = "record_name"

    run_id = fields.Many2one("sync.compare.run", string="Comparison", required=True, readonly=True,
                             ondelete="cascade", index=True)
    system_id = fields.Many2one(related="run_id.system_id", store=True)
    data_type_id = fields.Many2one(related="run_id.data_type_id", store=True)
    company_id = fields.Many2one(related="run_id.company_id", store=True)
    outcome = fields.Selection(compare.OUTCOMES, required=True, readonly=True, index=True)
    model = fields.Char(string="Local Model", required=True, readonly=True)
    res_id = fields.Many2oneReference(string="Local Record ID", model_field="model", readonly=True)
    record_name = fields.Char(string="Record", readonly=True)
    remote_ref = fields.Char(string="Remote Reference", readonly=True)
    diff = fields.Json(string="Differences", readonly=True,
                       help="The properties that differ: [{property, here, there}].")
    diff_text = fields.Text(compute="_compute_diff_text", string="What Differs")
    error = fields.Text(readonly=True)
    repaired = fields.Boolean(readonly=True, help="A message was queued to repair it.")
    repair_note = fields.Char(readonly=True)

    @api.depends("diff")
    def _compute_diff_text(self):
        for line in self:
            line.diff_text = "\n".join(
                f"{item.get('property')}: {_value(item.get('here'))} \u2192 {_value(item.get('there'))}"
                for item in line.diff or [] if isinstance(item, dict)) or False

    def action_open_record(self):
        """Open the local record, if it still exists and the user may read it."""
        self.ensure_one()
        return self.env["sync.message"]._open_record_action(self.model, self.res_id)

    def action_repair(self):
        """Repair these findings through the ordinary queue; a notification says what was queued.

        Records that differ, are missing there or whose change was not sent
        are queued again (an upsert built from the record as it is now);
        records only there get their deletion queued where the data type
        syncs deletions.  Nothing else changes here or there.
        """
        if not self.env.user.has_group("sync_base.group_sync_manager"):
            raise AccessError(_("Only synchronization managers can repair what a comparison found."))
        counts = self._repair()
        if not (counts["requeued"] or counts["deleted"] or counts["skipped"]):
            raise UserError(_("Nothing to repair among the selected findings: %(why)s",
                              why=counts.get("why") or _("they are repaired already, or not comparable.")))
        parts = []
        if counts["requeued"]:
            parts.append(_("%(count)s record(s) queued again", count=counts["requeued"]))
        if counts["deleted"]:
            parts.append(_("%(count)s deletion(s) queued", count=counts["deleted"]))
        if counts["skipped"]:
            parts.append(_("%(count)s skipped (%(why)s)", count=counts["skipped"], why=counts["why"]))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": "; ".join(parts) + ".", "type": "success" if not counts["skipped"] else "warning",
                       "next": {"type": "ir.actions.client", "tag": "soft_reload"}},
        }

    def _repair(self):
        """Queue the repair of these findings; ``{"requeued", "deleted", "skipped", "why"}``.

        A finding counts as repaired only once a message of it waits in the
        queue; one that cannot be (the system archived or no longer a target,
        the record no longer sent, deletions not synced) is skipped, saying why.
        """
        counts = {"requeued": 0, "deleted": 0, "skipped": 0, "why": ""}
        whys = set()
        Messages = self.env["sync.message"].sudo()
        repaired_runs = self.env["sync.compare.run"]
        for run, lines in self.sudo().filtered(lambda line: not line.repaired).grouped("run_id").items():
            data_type = run.data_type_id
            repairable = lines.filtered(lambda line: line.outcome in compare.REPAIR_REQUEUE + compare.REPAIR_DELETE)
            blocked = run._repair_blocked()
            if blocked:
                counts["skipped"] += len(repairable)
                whys.add(blocked)
                continue
            Model = self.env[data_type.model_name].sudo().with_context(active_test=False)
            in_scope = run._scope(Model.browse(repairable.mapped("res_id")).exists())
            scope_ids = set(in_scope.ids)
            to_send = repairable.filtered(
                lambda line, ids=scope_ids: line.outcome in compare.REPAIR_REQUEUE and line.res_id in ids)
            # there, and no longer sent here: only there, or a deletion that failed or was cancelled
            to_delete = repairable.filtered(
                lambda line, ids=scope_ids: line.res_id not in ids and line.outcome in ("only_there", "not_sent"))
            rest = repairable - to_send - to_delete
            if rest:
                counts["skipped"] += len(rest)
                whys.add(_("no longer sent to the system"))
            if to_send:
                Messages._queue_records(data_type, in_scope.browse(to_send.mapped("res_id")), "upsert",
                                        systems=run.system_id)
                counts["requeued"] += self._mark_queued(run, to_send, "upsert", _("queued again"), counts, whys)
            if to_delete and not data_type.sync_deletion:
                counts["skipped"] += len(to_delete)
                whys.add(_("%(data_type)s does not sync deletions", data_type=data_type.name))
            elif to_delete:
                aside = self._repair_deletions(run, to_delete, whys)
                counts["skipped"] += len(aside)
                counts["deleted"] += self._mark_queued(run, to_delete - aside, "delete", _("deletion queued"),
                                                       counts, whys)
            if lines.filtered("repaired"):
                repaired_runs |= run
        if counts["requeued"] or counts["deleted"]:
            repaired_runs.sudo().write({"repaired_at": fields.Datetime.now()})
            Messages._trigger_send()
        counts["why"] = ", ".join(sorted(whys))
        return counts

    def _mark_queued(self, run, lines, operation, note, counts, whys):
        """Mark repaired the ``lines`` whose message of ``operation`` now waits in the queue; count the others
        as skipped.  Return how many were repaired."""
        waiting = run._unsent_records(lines.mapped("res_id"), operation)
        done = lines.filtered(lambda line: line.res_id in waiting)
        done.write({"repaired": True, "repair_note": note})
        if len(done) < len(lines):
            counts["skipped"] += len(lines) - len(done)
            whys.add(_("the queue did not take them: see the system's messages"))
        return len(done)

    def _repair_deletions(self, run, lines, whys):
        """Queue the deletion there of the records of ``lines`` (there, and no longer sent here); return the
        lines left aside."""
        data_type, system = run.data_type_id, run.system_id
        Model = self.env[data_type.model_name].sudo().with_context(active_test=False)
        Bindings = self.env["sync.binding"].sudo()
        # the other side holds them, as the comparison saw: a binding routes the deletion to it and names the
        # record there, also for a record added there under this database's identifier.  A binding kept here
        # is left as it is; a reference there that is another local record's stays that record's
        remote_model = self.env["sync.transport"]._compare_remote_model(system, data_type)
        bound = Bindings._find(system, data_type.model_name, lines.mapped("res_id"))
        aside = self.browse()
        rows = []
        for line in lines.filtered(lambda line: line.res_id not in bound):
            other = Bindings._find_local(system, remote_model, line.remote_ref) if line.remote_ref else Bindings
            if not line.remote_ref or other:
                aside |= line
            else:
                rows.append((line.model, line.res_id, remote_model, line.remote_ref))
        if aside:
            whys.add(_("their reference there is unknown, or bound to another record here"))
        Bindings._bind_many(system, rows)
        lines -= aside
        if lines:
            existing = Model.browse(lines.mapped("res_id")).exists()
            info = data_type._primary_values(existing)
            self.env["sync.message"].sudo()._queue_records(
                data_type, existing, "delete", deletion_info=info, ids=lines.mapped("res_id"), systems=system)
        return aside


def _value(value):
    if value is None:
        return "\u2205"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
