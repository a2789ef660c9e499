from odoo import _, api, fields, models
from odoo.tools import SQL

from .. import compat


class SyncBinding(models.Model):
    """A local record's counterpart on a remote system.

    Updates, deletions and references between records find the remote record
    through its binding.  ``res_id`` is kept after the local record is deleted,
    so that a deletion can still be sent.
    """

    _name = "sync.binding"
    _description = "Synchronization Binding"
    _order = "system_id, model, res_id"
    _rec_names_search = ["remote_ref", "model"]

    system_id = fields.Many2one("sync.system", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="system_id.company_id", store=True)
    model = fields.Char(string="Local Model", required=True, index=True)
    res_id = fields.Many2oneReference(string="Local Record ID", model_field="model", required=True, index=True)
    remote_model = fields.Char(required=True)
    remote_ref = fields.Char(string="Remote Reference", required=True)
    last_sync_at = fields.Datetime(string="Last Synchronized", default=fields.Datetime.now)

    compat.declare_constraints(locals(), [
        (
            "local_unique",
            "unique(system_id, model, res_id)",
            "A local record has at most one binding per system.",
        ),
        (
            "remote_unique",
            "unique(system_id, remote_model, remote_ref)",
            "A remote record is bound to at most one local record per system.",
        ),
    ])

    def init(self):
        # room on each page for the next version of a row: sending a bound record again changes only when it was
        # synchronized, and the new version then stays on its page without touching the indexes (a HOT update)
        self.env.cr.execute(SQL("ALTER TABLE sync_binding SET (fillfactor = 80)"))

    @api.depends("model", "res_id", "remote_model", "remote_ref")
    def _compute_display_name(self):
        for binding in self:
            binding.display_name = (
                f"{binding.model},{binding.res_id} \u2192 {binding.remote_model}/{binding.remote_ref}"
            )

    @api.model
    def _find(self, system, model, res_ids):
        """Bindings of the local records ``res_ids`` of ``model`` on ``system``, as a dict ``{res_id: binding}``."""
        bindings = self.search([("system_id", "=", system.id), ("model", "=", model), ("res_id", "in", list(res_ids))])
        return {binding.res_id: binding for binding in bindings}

    @api.model
    def _find_local(self, system, remote_model, remote_ref):
        """The binding of a remote record on ``system``, or an empty recordset."""
        return self.search(
            [("system_id", "=", system.id), ("remote_model", "=", remote_model), ("remote_ref", "=", str(remote_ref))],
            limit=1,
        )

    @api.model
    def _bind(self, system, record, remote_model, remote_ref):
        """Record that ``record`` is ``remote_model``/``remote_ref`` on ``system``; return the binding.

        An existing binding of the record is updated; a binding of the same
        remote record to another local record is moved to this one.
        """
        record.ensure_one()
        remote_ref = str(remote_ref)
        binding = self.search(
            [("system_id", "=", system.id), ("model", "=", record._name), ("res_id", "=", record.id)], limit=1
        )
        stale = self._find_local(system, remote_model, remote_ref) - binding
        if stale:
            stale.unlink()
        vals = {"remote_model": remote_model, "remote_ref": remote_ref, "last_sync_at": fields.Datetime.now()}
        if binding:
            binding.write(vals)
            return binding
        return self.create(dict(vals, system_id=system.id, model=record._name, res_id=record.id))

    def action_open_record(self):
        self.ensure_one()
        if self.model not in self.env or not self.env[self.model].browse(self.res_id).exists():
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {"message": _("The local record no longer exists."), "type": "warning"},
            }
        return {
            "type": "ir.actions.act_window",
            "res_model": self.model,
            "res_id": self.res_id,
            "views": [(False, "form")],
        }

    @api.model
    def _bind_many(self, system, rows):
        """:meth:`_bind` for many records at once, in two statements: ``rows`` of
        ``(model, res_id, remote_model, remote_ref)``.  The send queue's hot path."""
        by_local, by_remote = {}, {}
        for model, res_id, remote_model, remote_ref in rows:
            key_local, key_remote = (model, res_id), (remote_model, str(remote_ref))
            previous = by_local.pop(key_local, None)
            if previous:
                by_remote.pop(previous, None)
            stale = by_remote.pop(key_remote, None)
            if stale:
                by_local.pop(stale, None)
            by_local[key_local] = key_remote
            by_remote[key_remote] = key_local
        if not by_local:
            return
        self.env.flush_all()
        models_, res_ids, remote_models, remote_refs = (
            list(column) for column in zip(*[(model, res_id, remote_model, remote_ref)
                                             for (model, res_id), (remote_model, remote_ref) in by_local.items()],
                                           strict=True))
        # columns as arrays: one parameter each, however many rows (the send queue's hot path)
        values = SQL("unnest(%s::varchar[], %s::int[], %s::varchar[], %s::varchar[]) AS v(model, res_id, remote_model, "
                     "remote_ref)", models_, res_ids, remote_models, remote_refs)
        # a remote record bound to another local record moves to this one
        self.env.cr.execute(SQL(
            "DELETE FROM sync_binding b USING %s "
            "WHERE b.system_id = %s AND b.remote_model = v.remote_model AND b.remote_ref = v.remote_ref "
            "AND (b.model <> v.model OR b.res_id <> v.res_id)",
            values, system.id,
        ))
        now = fields.Datetime.now()
        uid = self.env.uid
        self.env.cr.execute(SQL(
            "INSERT INTO sync_binding (system_id, company_id, model, res_id, remote_model, remote_ref, last_sync_at, "
            "create_uid, create_date, write_uid, write_date) "
            "SELECT s.id, s.company_id, v.model, v.res_id, v.remote_model, v.remote_ref, %(now)s, %(uid)s, "
            "%(now)s, %(uid)s, %(now)s FROM %(values)s JOIN sync_system s ON s.id = %(system)s "
            "ON CONFLICT (system_id, model, res_id) DO UPDATE SET remote_model = EXCLUDED.remote_model, "
            "remote_ref = EXCLUDED.remote_ref, last_sync_at = EXCLUDED.last_sync_at, "
            "write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date",
            system=system.id, now=now, uid=uid, values=values,
        ))
        self.invalidate_model()
