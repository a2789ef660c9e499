import logging

from odoo import api, models

_logger = logging.getLogger(__name__)

PRECOMMIT_KEY = "sync_queue.changes"


class Base(models.AbstractModel):
    """Capture changes of synchronized models in the transaction that makes them.

    A plain ``_inherit = 'base'`` override, looked up in a cached map of the
    synchronized models and fields: models that nothing synchronizes pay one
    dictionary lookup.  (Patching model classes as base_automation does would
    be undone by its ``_unregister_hook`` whenever an automation rule is saved.)
    """

    _inherit = "base"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        spec = self._sync_capture_spec()
        if spec is not None and records:
            records._sync_capture("create", spec)
        return records

    def write(self, vals):
        result = super().write(vals)
        spec = self._sync_capture_spec()
        if spec is not None and self and (spec["any_field"] or not spec["fields"].isdisjoint(vals)):
            self._sync_capture("write", spec)
        return result

    def _write_multi(self, vals_list):
        # Stored computed fields reach the database here, when they are
        # recomputed, without going through write(): capture them too.
        result = super()._write_multi(vals_list)  # pylint: disable=assignment-from-none
        spec = self._sync_capture_spec()
        if spec is not None and self and spec["write"]:
            computed = {fname for vals in vals_list for fname in vals if self._fields[fname].compute}
            if computed and (spec["any_field"] or not spec["fields"].isdisjoint(computed)):
                self._sync_capture("write", spec, trigger=False)
        return result

    def unlink(self):
        spec = self._sync_capture_spec()
        if spec is not None and self:
            self._sync_capture("unlink", spec)
        return super().unlink()

    def _sync_capture_spec(self):
        if not self.pool.ready or self.env.context.get("sync_no_capture"):
            return None
        if "sync.data.type" not in self.pool:
            return None
        data_types = self.env["sync.data.type"]
        # Read the ormcache entry directly: calling the decorated method costs
        # its signature binding on every write() of every model.
        entries, key, _stats = type(data_types)._capture_map.__cache__.lru(data_types)
        try:
            registry_map = entries[key]
        except KeyError:
            registry_map = data_types._capture_map()
        return registry_map.get(self._name)

    def _sync_capture(self, operation, spec, trigger=True):
        """Queue the records' change (and their parents' documents) in this transaction's outbox."""
        cr = self.env.cr
        pending = cr.precommit.data.get(PRECOMMIT_KEY)
        if pending is None:
            pending = cr.precommit.data[PRECOMMIT_KEY] = {}
            cr.precommit.add(self.env["sync.change"].sudo()._flush_captured)
        if trigger and not cr.precommit.data.get(PRECOMMIT_KEY + ".triggered"):
            # wakes a cron worker right after the commit (rolled back with the transaction); not from
            # within a flush, where creating the trigger record would write during the flush
            cr.precommit.data[PRECOMMIT_KEY + ".triggered"] = True
            cron = self.env.ref("sync_queue.ir_cron_create_queue", raise_if_not_found=False)
            if cron:
                cron.sudo()._trigger()
        # set by the inbound endpoint: nothing goes back to the systems a change came from
        origin = tuple(sorted(self.env.context.get("sync_origin_system_ids") or ())) or None
        record_op = operation if spec["self"] else None
        if record_op and spec[operation]:
            payloads = self._sync_deletion_payloads() if operation == "unlink" else {}
            for record_id in self.ids:
                key = (self._name, record_id)
                previous = pending.get(key)
                if previous and previous[0] == "create" and operation == "write":
                    continue  # created in this transaction: one change is enough
                pending[key] = (operation, payloads.get(record_id), origin)
        for parent_model, inverse_name in spec["parents"]:
            parents = self.sudo()[inverse_name]
            for parent_id in parents.ids:
                pending.setdefault((parent_model, parent_id), ("write", None, origin))

    def _sync_deletion_payloads(self):
        """What the other side needs to find each record once it is gone: primary values per data type."""
        data_types = self.env["sync.data.type"].sudo().search(
            [("model_name", "=", self._name), ("enabled", "=", True), ("sync_deletion", "=", True)]
        )
        payloads = {}
        for data_type in data_types:
            for record_id, primary in data_type._primary_values(self.sudo()).items():
                payloads.setdefault(record_id, {})[str(data_type.id)] = primary
        return payloads
