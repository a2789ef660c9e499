import logging
import time

import psycopg2.errors

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from odoo.addons.sync_base import compat
from odoo.addons.sync_base.lib.codec import CodecError, encode_value
from odoo.addons.sync_base.lib.envelope import BINDING_REF
from odoo.addons.sync_queue.models.base import Origins

from ..lib import plain, pull
from ..lib.client import RpcError

_logger = logging.getLogger(__name__)

# a document that cannot be applied yet may reference one applied later in the same page
MAX_PASSES = 8
# a sweep that finds more than this share of a slice gone (and at least SWEEP_GUARD_MIN records) applies
# nothing until a manager allows it: a remote restored from an old backup, emptied, or whose user lost its
# access must not empty this database
SWEEP_GUARD_RATIO = 0.5
SWEEP_GUARD_MIN = 10
# references of the pulled records, by the remote's field types
RELATIONAL = ("many2one", "many2many")
RECORD_ERRORS = (UserError, ValidationError, AccessError, CodecError, ValueError, TypeError, KeyError,
                 psycopg2.IntegrityError, psycopg2.DataError, psycopg2.errors.SerializationFailure,
                 psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected)


class SyncRpcWatermark(models.Model):
    """How far the records of one data type have been pulled from one plain-mode system."""

    _name = "sync.rpc.watermark"
    _description = "Synchronization: RPC Pull Watermark"
    _order = "system_id, data_type_id"
    _rec_name = "data_type_id"

    system_id = fields.Many2one("sync.system", required=True, ondelete="cascade", readonly=True, index=True)
    data_type_id = fields.Many2one("sync.data.type", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one(related="system_id.company_id", store=True)
    remote_model = fields.Char(compute="_compute_remote_model")
    cursor_at = fields.Datetime(
        string="Read Up To", readonly=True,
        help="The remote write date (to the second) up to which records have been read.",
    )
    cursor_id = fields.Integer(string="Last Id Read in That Second", readonly=True)
    caught_up = fields.Boolean(readonly=True, help="The last run read everything changed until then.")
    retry_ids = fields.Json(
        string="Remote Ids to Read Again", readonly=True,
        help="Records that could not be applied yet, or that had local changes still to send: read again, fresh, "
        "on the next run.",
    )
    retry_count = fields.Integer(compute="_compute_retry_count", string="To Read Again")
    sweep_cursor = fields.Integer(readonly=True, help="The last binding checked for deletion on the remote.")
    last_run_at = fields.Datetime(readonly=True)
    last_error = fields.Text(readonly=True)
    pulled_count = fields.Integer(string="Records Applied", readonly=True)
    deleted_count = fields.Integer(string="Deletions Applied", readonly=True)
    deletions_held = fields.Boolean(
        readonly=True, help="The last sweep found so many records gone that it applied none of their deletions.",
    )
    allow_mass_deletion = fields.Boolean(
        readonly=True,
        help="Set by 'Apply the Deletions': the next sweep applies the deletions it finds, however many.",
    )

    compat.declare_constraints(locals(), [
        ("system_data_type_unique", "unique(system_id, data_type_id)",
         "A data type is pulled once from a system."),
    ])

    @api.depends("data_type_id.remote_model", "data_type_id.model_name")
    def _compute_remote_model(self):
        for watermark in self:
            watermark.remote_model = watermark.data_type_id.remote_model or watermark.data_type_id.model_name

    @api.depends("retry_ids")
    def _compute_retry_count(self):
        for watermark in self:
            watermark.retry_count = len(watermark.retry_ids or [])

    # ------------------------------------------------------------------
    # Scheduling
    # ------------------------------------------------------------------
    @api.model
    def _pull_pairs(self):
        """The watermarks of every enabled data type to pull from every active plain-mode system, made if missing."""
        systems = self.env["sync.system"].sudo().search([
            ("transport", "=", "rpc"), ("rpc_mode", "=", "plain"), ("paused", "=", False),
        ])
        data_types = self.env["sync.data.type"].sudo().search([
            ("rpc_pull", "=", True), ("enabled", "=", True), ("system_ids", "in", systems.ids),
        ])
        existing = {(w.system_id.id, w.data_type_id.id): w for w in self.sudo().search([
            ("system_id", "in", systems.ids), ("data_type_id", "in", data_types.ids)])}
        missing = [{"system_id": system.id, "data_type_id": data_type.id}
                   for data_type in data_types for system in data_type.system_ids & systems
                   if (system.id, data_type.id) not in existing]
        return self.sudo().browse([w.id for w in existing.values()]) | self.sudo().create(missing)

    @api.model
    def _cron_pull(self, budget=None):
        """Pull a page of changes for every data type to pull, as long as the time budget lasts.

        Never raises for a down remote or a bad record: failures are kept on
        the watermark, so Odoo never deactivates the cron.  Odoo runs the cron
        again at once while some pull has not caught up.
        """
        if budget is None:
            budget = self.env["res.config.settings"]._sync_queue_param("sync_queue.send_time_budget")
        deadline = time.monotonic() + budget
        applied, pages, behind = 0, 0, 0
        for watermark in self._pull_pairs():
            if time.monotonic() >= deadline:
                behind += 1
                continue
            try:
                with self.env.cr.savepoint():
                    applied += watermark._pull_page()
            except Exception as exc:  # one pull's bug never rolls back the others
                _logger.exception("Pulling %s failed", watermark.display_name)
                watermark.last_error = f"{type(exc).__name__}: {exc}"
            pages += 1
            behind += 0 if watermark.caught_up else 1
        # pages, not records changed: a page of records already here is progress too, and Odoo only runs the
        # cron again at once after a run that reports some
        compat.cron_progress(self.env, pages, behind)
        return applied

    def action_pull(self):
        """Pull a page now (managers); the notification says what came."""
        if not self.env.user.has_group("sync_base.group_sync_manager"):
            raise AccessError(_("Only synchronization managers can pull records."))
        # the watermarks he may read: another company's are not his to move, though he is a manager
        self.check_access("read")
        applied = sum(watermark.sudo()._pull_page() for watermark in self)
        errors = self.filtered("last_error")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": errors[:1].last_error if errors else _("%(count)s record(s) applied.", count=applied),
                "type": "warning" if errors else "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_allow_deletions(self):
        """Let the next sweep apply deletions that the mass-deletion guard held back (managers)."""
        if not self.env.user.has_group("sync_base.group_sync_manager"):
            raise AccessError(_("Only synchronization managers can allow deletions."))
        # the watermarks he may read: another company's are not his to move, though he is a manager
        self.check_access("read")
        self.sudo().write({"allow_mass_deletion": True})

    def action_reset(self):
        """Read everything again from the start on the next run (managers); nothing is duplicated."""
        if not self.env.user.has_group("sync_base.group_sync_manager"):
            raise AccessError(_("Only synchronization managers can reset a pull."))
        # the watermarks he may read: another company's are not his to move, though he is a manager
        self.check_access("read")
        self.sudo().write({"cursor_at": False, "cursor_id": 0, "caught_up": False, "sweep_cursor": 0,
                           "last_error": False})

    # ------------------------------------------------------------------
    # One page
    # ------------------------------------------------------------------
    def _pull_page(self):
        """Pull one page of this watermark's changes and sweep a slice of deletions; return how many were applied.

        The watermark row is locked for the page: a second worker skips it.
        """
        self.ensure_one()
        self.env.cr.execute(SQL("SELECT id FROM sync_rpc_watermark WHERE id = %s FOR UPDATE SKIP LOCKED", self.id))
        if not self.env.cr.fetchone():
            return 0
        self.invalidate_recordset()
        system, data_type = self.system_id, self.data_type_id
        vals = {"last_run_at": fields.Datetime.now()}
        applied = 0
        try:
            if not system.user_id:
                raise UserError(_("System %(system)s has no user to apply pulled records with.",
                                  system=system.display_name))
            client = system._rpc_client()
            applier = self._applier()
            specs = self._specs(client)
            stored = pull.Cursor(self.cursor_at, self.cursor_id)
            start = pull.start_cursor(stored, self.caught_up, system.rpc_pull_overlap)
            rows, cursor, caught_up = pull.read_page(
                client, self.remote_model, [spec[0] for spec in specs], self._remote_domain(), start,
                system.batch_size,
            )
            # with the page, so that a record waiting for one of the page gets it in the same run
            retry_rows, retry_later = self._retry_rows(client, specs)
            rows = retry_rows + rows
            failed, reasons, applied = self._apply_rows(client, applier, specs, rows)
            if caught_up and cursor.key < stored.key:
                cursor = stored  # nothing new: keep the mark where it was, not back by the overlap
            # those waiting their turn first, then those that failed again
            waiting = set(retry_later)
            retry_ids = retry_later + [remote_id for remote_id in failed if remote_id not in waiting]
            deleted, held = self._sweep(client, applier)
            if held:
                reasons[0] = held
            vals.update({
                "cursor_at": cursor.second or False,
                "cursor_id": cursor.last_id,
                "caught_up": caught_up,
                "retry_ids": retry_ids or False,
                "pulled_count": self.pulled_count + applied,
                "deleted_count": self.deleted_count + deleted,
                # the sweep's warning (under id 0) first, then the records that failed
                "last_error": "\n".join(
                    f"{self.remote_model},{remote_id}: {reason}" if remote_id else reason
                    for remote_id, reason in sorted(reasons.items())[:20]) or False,
            })
        except (RpcError, UserError, ValidationError) as exc:
            # nothing moves: the next run reads the same page again
            _logger.info("Pulling %s from %s: %s", data_type.display_name, system.code, exc)
            vals["last_error"] = str(exc.args[0] if isinstance(exc, UserError) else exc)
        self.write(vals)
        return applied

    def _applier(self):
        """The data type as the system's user, with the system as the origin: nothing goes back to it.

        ``_upsert`` and ``_apply_inbound_deletion`` read the configuration as
        the suite and touch the records only as this user (not superuser:
        ``with_user`` leaves it), with the system's company: its rights and
        record rules decide what a pulled record may find, reference and
        change, and it needs no Synchronization group.
        """
        system = self.system_id
        applier = self.data_type_id.with_user(system.user_id).with_context(
            sync_origin_system_ids=Origins(system.ids), tracking_disable=True)
        return applier.with_company(system.company_id) if system.company_id else applier

    def _remote_domain(self):
        return self.data_type_id._rpc_pull_domain()

    def _specs(self, client):
        """``[(property, kind, remote type, line)]`` of the lines a pull reads: fields and references."""
        lines = self.data_type_id.line_ids.filtered(lambda line: line.line_type in ("field", "reference"))
        remote_fields = plain._fields(client, self.remote_model, set(lines.mapped("name")))
        specs = []
        for line in self.data_type_id.line_ids.sorted(lambda line: (line.sequence, line.id)):
            if line.line_type not in ("field", "reference"):
                continue
            info = remote_fields.get(line.name)
            if info is None:
                raise UserError(_("%(data_type)s: the remote %(model)s has no field %(field)s to pull.",
                                  data_type=self.data_type_id.display_name, model=self.remote_model,
                                  field=line.name))
            if (line.line_type == "reference") != (info["type"] in RELATIONAL):
                raise UserError(_("%(data_type)s: the remote field %(field)s is a %(type)s, which a %(line_type)s "
                                  "line cannot pull.", data_type=self.data_type_id.display_name, field=line.name,
                                  type=info["type"], line_type=line.line_type))
            kind = "reference" if line.line_type == "reference" else "field"
            specs.append((line.name, kind, info["type"], line, info.get("relation")))
        return specs

    def _retry_rows(self, client, specs):
        """The records previous pages could not apply, read again, fresh; ``(rows, ids left for later)``.

        A page's worth at most, the oldest first: the others wait their turn.
        Records deleted since, or that left the remote domain, are not read
        and leave the list.
        """
        ids = [int(remote_id) for remote_id in self.retry_ids or []]
        if not ids:
            return [], []
        now, later = ids[: self.system_id.batch_size], ids[self.system_id.batch_size:]
        rows = client.execute(self.remote_model, "search_read", [*self._remote_domain(), ("id", "in", now)],
                              fields=sorted({spec[0] for spec in specs} | {"write_date"}),
                              context={"active_test": False})
        return rows, later

    # ------------------------------------------------------------------
    # Applying
    # ------------------------------------------------------------------
    def _apply_rows(self, client, applier, specs, rows):
        """Apply remote ``rows``, each in a savepoint, in passes; ``(failed ids, {id: reason}, changed count)``."""
        by_id = {}
        for row in rows:
            by_id[row["id"]] = row  # a record read twice in a page: once
        deferred = self._locally_changed(list(by_id))
        reasons = {remote_id: _("changed here and not sent yet: read again later") for remote_id in deferred}
        pending = [row for remote_id, row in by_id.items() if remote_id not in deferred]
        primaries = {}
        applied = 0
        now = self.env.cr.now()
        for _pass in range(MAX_PASSES):
            if not pending:
                break
            references = self._references(client, specs, pending, primaries)
            before = self._local_write_dates([row["id"] for row in pending])
            waiting = []
            for row in pending:
                try:
                    doc = pull.document(
                        row, [spec[:3] for spec in specs], self._convert,
                        lambda prop, remote_id, name, refs=references: (
                            refs[prop].get(remote_id) or {"name": name or ""}),
                    )
                    with self.env.cr.savepoint():
                        record = applier._upsert([doc], self.system_id, [(self.remote_model, str(row["id"]))])
                except RECORD_ERRORS as exc:
                    reasons[row["id"]] = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
                    waiting.append(row)
                else:
                    reasons.pop(row["id"], None)
                    # only what was created or changed counts: a record read again is applied as a no-op
                    previous = before.get(row["id"])
                    applied += record.write_date != previous if previous else record.write_date == now
            if len(waiting) == len(pending):
                break
            pending = waiting
        return sorted(set(deferred) | {row["id"] for row in pending}), reasons, applied

    def _local_write_dates(self, remote_ids):
        """``{remote id: write date}`` of the local records already bound to ``remote_ids``."""
        bindings = self.env["sync.binding"].sudo().search([
            ("system_id", "=", self.system_id.id), ("remote_model", "=", self.remote_model),
            ("model", "=", self.data_type_id.model_name), ("remote_ref", "in", [str(i) for i in remote_ids]),
        ])
        records = self.env[self.data_type_id.model_name].sudo().with_context(active_test=False).browse(
            bindings.mapped("res_id")).exists()
        dates = dict(zip(records.ids, records.mapped("write_date"), strict=True))
        return {int(b.remote_ref): dates[b.res_id] for b in bindings if b.res_id in dates}

    def _locally_changed(self, remote_ids):
        """Remote ids whose local record has changes still to send to this system: those win, for now."""
        if not remote_ids:
            return set()
        system, model = self.system_id, self.data_type_id.model_name
        bindings = self.env["sync.binding"].sudo().search([
            ("system_id", "=", system.id), ("remote_model", "=", self.remote_model), ("model", "=", model),
            ("remote_ref", "in", [str(remote_id) for remote_id in remote_ids]),
        ])
        if not bindings:
            return set()
        by_res_id = {binding.res_id: int(binding.remote_ref) for binding in bindings}
        changed = self.env["sync.message"]._records_with_unsent_changes(system, model, list(by_res_id))
        return {by_res_id[res_id] for res_id in changed}

    @api.model
    def _convert(self, remote_type, value):
        if remote_type == "boolean":
            return bool(value)
        if value is False or value is None:
            return None
        try:
            return encode_value(remote_type, value)
        except CodecError:
            return value

    def _references(self, client, specs, rows, primaries):
        """``{property: {remote id: reference}}``: by binding, else by the referenced data type's primary values."""
        references = {}
        for prop, kind, remote_type, line, relation in specs:
            if kind != "reference":
                continue
            ids = set()
            for row in rows:
                value = row.get(prop)
                if value and remote_type == "many2one":
                    ids.add(value[0])  # [id, display name]
                elif value:
                    ids.update(value)
            comodel = self.env[self.data_type_id.model_name]._fields[line.value].comodel_name
            bindings = self.env["sync.binding"].sudo().search([
                ("system_id", "=", self.system_id.id), ("remote_model", "=", relation), ("model", "=", comodel),
                ("remote_ref", "in", [str(remote_id) for remote_id in ids]),
            ])
            refs = {int(binding.remote_ref): {BINDING_REF: binding.res_id} for binding in bindings}
            unbound = sorted(ids - set(refs))
            primary_lines = line.reference_id.line_ids.filtered("primary") if line.reference_id else []
            if unbound and primary_lines:
                names = primary_lines.mapped("name")
                missing = [remote_id for remote_id in unbound if (relation, remote_id) not in primaries]
                if missing:
                    # search_read, not read: a record the remote user may not see is left out, not an error
                    for found in client.execute(relation, "search_read", [("id", "in", missing)],
                                                fields=names + ["display_name"], context={"active_test": False}):
                        primaries[(relation, found["id"])] = {
                            name: (None if found.get(name) is False else found.get(name)) for name in names}
                refs.update({remote_id: primaries[(relation, remote_id)] for remote_id in unbound
                             if (relation, remote_id) in primaries})
            elif unbound:
                for found in client.execute(relation, "search_read", [("id", "in", unbound)],
                                            fields=["display_name"], context={"active_test": False}):
                    refs[found["id"]] = {"name": found["display_name"]}
            references[prop] = refs
        return references

    # ------------------------------------------------------------------
    # Deletions
    # ------------------------------------------------------------------
    def _sweep(self, client, applier):
        """Check a slice of this watermark's bindings on the remote and apply the deletions found.

        Returns ``(deleted, held)``: how many were applied, and why the slice
        was held back (``held``), when it looked like a mass deletion.
        Records with local changes still to send are left alone: they are
        sent again, and the remote gets them back.
        """
        system, data_type = self.system_id, self.data_type_id
        Binding = self.env["sync.binding"].sudo()
        domain = [("system_id", "=", system.id), ("model", "=", data_type.model_name),
                  ("remote_model", "=", self.remote_model)]
        bindings = Binding.search([*domain, ("id", ">", self.sweep_cursor)], order="id", limit=system.rpc_sweep_size)
        remote_ids = {int(b.remote_ref): b for b in bindings if b.remote_ref.isdigit()}
        # deleted there, not hidden from the remote user by its record rules (see remote_gone)
        deleted = pull.remote_gone(client, self.remote_model, list(remote_ids),
                                   access_error=lambda exc: isinstance(exc, RpcError) and "AccessError" in str(exc))
        gone = [remote_id for remote_id in remote_ids if remote_id in deleted]
        if (len(gone) >= SWEEP_GUARD_MIN and len(gone) > len(remote_ids) * SWEEP_GUARD_RATIO
                and not self.allow_mass_deletion):
            # the cursor stays: the same slice is checked again until a manager allows it
            self.deletions_held = True
            return 0, _(
                "%(gone)s of %(checked)s records checked are gone from %(system)s: no deletion was applied. "
                "If they were deleted there on purpose, press 'Apply the Deletions'.",
                gone=len(gone), checked=len(remote_ids), system=system.display_name)
        # the next run goes on after this slice, and from the start again after the last one
        self.sweep_cursor = bindings[-1].id if len(bindings) == system.rpc_sweep_size else 0
        self.write({"allow_mass_deletion": False, "deletions_held": False})
        changed_here = self._locally_changed(gone)
        deleted = 0
        for remote_id in gone:
            binding = remote_ids[remote_id]
            if remote_id in changed_here:
                continue
            try:
                with self.env.cr.savepoint():
                    applier._apply_inbound_deletion(system, {}, (self.remote_model, str(remote_id)))
                    binding.exists().unlink()  # archived here: the remote record is gone for good
            except RECORD_ERRORS as exc:
                _logger.info("Deleting %s,%s pulled from %s: %s", data_type.model_name, binding.res_id, system.code,
                             exc)
                continue
            deleted += 1
        return deleted, None
