import contextlib
import logging
from collections import defaultdict

from odoo import api, models
from odoo.tools import SQL

from odoo.addons.sync_base import compat

_logger = logging.getLogger(__name__)

SUITE_MODULE = "sync_queue"
# precommit data (cleared at commit and rollback): on whose behalf write() changed each record not flushed yet
ORIGINS_KEY = "sync_queue.origins"


class Origins(tuple):
    """The ids of the systems a change is applied for, as the suite's own code puts them in the context.

    A change made with ``sync_origin_system_ids`` goes nowhere back to those
    systems.  Any RPC caller sends a context, which JSON and XML-RPC fill with
    plain lists only: a plain list there is ignored, so that nobody can keep
    his own changes from being sent by naming the systems.  Only the inbound
    endpoint and the pull, which build an ``Origins``, spare a system.
    """

    __slots__ = ()


def _context_origin(env):
    """The systems a change is applied for (set by the inbound endpoint and the pull): nothing goes back there."""
    origins = env.context.get("sync_origin_system_ids")
    if not isinstance(origins, Origins):
        return None
    return tuple(sorted(origins)) or None


def _common_origin(origins):
    """The systems every one of ``origins`` spares; None as soon as one change is local."""
    common = None
    for origin in origins:
        if origin is None:
            return None
        common = set(origin) if common is None else common & set(origin)
    return tuple(sorted(common)) if common else None


class Base(models.AbstractModel):
    """Capture changes of synchronized models in the statement that makes them.

    A plain ``_inherit = 'base'`` override, looked up in a cached map of the
    synchronized models and fields: models that nothing synchronizes pay one
    dictionary lookup.  (Patching model classes as base_automation does would
    be undone by its ``_unregister_hook`` whenever an automation rule is saved.)

    Each change is written to ``sync_change`` right after (or, for a
    deletion, right before) the SQL statement that makes it, in the same
    transaction: it survives exactly when that statement survives, whether a
    savepoint around it is rolled back (with or without ``flush``) or the
    whole transaction is.  A record's field change is captured when its
    ``UPDATE`` runs (``_write_multi``, at flush), not when ``write()`` puts it
    in the cache: an unflushed write inside a rolled-back ``flush=False``
    savepoint still reaches the database later, and so does its capture.
    """

    _inherit = "base"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        capture_map = self._sync_capture_map()
        spec = capture_map.get(self._name) if capture_map else None
        if spec is not None and records:
            records._sync_capture("create", spec)
            if spec["triggers"]:
                records._sync_capture_dependents(capture_map, spec["triggers"], create=True)
            tables = records._sync_shared_relations(spec, set().union(*vals_list))
            if tables:
                records._sync_capture_relations(capture_map, spec, tables=tables)
            if _context_origin(self.env) is not None:
                records._sync_note_origin_of_dependents(set().union(*vals_list), create=True)
        return records

    def write(self, vals):
        capture_map = self._sync_capture_map()
        spec = capture_map.get(self._name) if capture_map else None
        if spec is None or not self:
            return super().write(vals)
        self._sync_note_origin(vals)
        # a relation about to change: what depends on it through the old value changes too
        relational = spec["relational_triggers"].intersection(vals)
        if relational:
            self._sync_capture_dependents(capture_map, relational)
        # a many2many written from this side of a relation that records of a watched model hold on theirs (a
        # tag's partners are the partners' tags): those that lose it now, and those that gain it below
        tables = self._sync_shared_relations(spec, vals)
        if tables:
            self._sync_capture_relations(capture_map, spec, tables=tables)
        result = super().write(vals)
        if tables:
            self._sync_capture_relations(capture_map, spec, tables=tables)
        if _context_origin(self.env) is not None:
            self._sync_note_origin_of_dependents(vals)  # through the new values of relations too
        # column fields are captured in _write_multi when their UPDATE runs; x2many fields change their tables
        # (or their records) here
        columnless = {fname for fname in vals if self._fields[fname].column_type is None}
        if columnless:
            if spec["any_field"] or not spec["fields"].isdisjoint(columnless):
                self._sync_capture("write", spec)
            triggers = spec["triggers"] & columnless
            if triggers:
                self._sync_capture_dependents(capture_map, triggers)
            if spec["paths"]:
                self._sync_capture_paths(capture_map, spec, columnless)
        return result

    def _write_multi(self, vals_list):
        capture_map = self._sync_capture_map()
        spec = capture_map.get(self._name) if capture_map else None
        if spec is None or not self:
            return super()._write_multi(vals_list)
        written = set().union(*vals_list)
        watched = spec["any_field"] or not spec["fields"].isdisjoint(written)
        # a record moving to another parent: the parent it leaves changes too (read from the database, which
        # still has it; the cache already has the new one)
        old_parents = self._sync_old_parents(spec, written) if watched else {}
        result = super()._write_multi(vals_list)  # pylint: disable=assignment-from-none
        if watched:
            self._sync_capture("write", spec)
            self._sync_capture_parents(old_parents)
        triggers = spec["triggers"] & written
        if triggers:
            self._sync_capture_dependents(capture_map, triggers)
        if spec["paths"]:
            self._sync_capture_paths(capture_map, spec, written)
        return result

    def unlink(self):
        capture_map = self._sync_capture_map()
        spec = capture_map.get(self._name) if capture_map else None
        if spec is not None and self:
            # before the DELETE, while the records, their relations and their payloads can still be read;
            # what depends on them first, so that their own deletion is the last change of each record
            if spec["triggers"]:
                self._sync_capture_dependents(capture_map, spec["triggers"], exclude=self)
            if spec["paths"]:
                self._sync_capture_paths(capture_map, spec, None, exclude=self)
            if spec["relations"]:
                self._sync_capture_relations(capture_map, spec, exclude=self)
            if spec["cascades"]:
                self._sync_capture_cascade(capture_map, spec, {(self._name, rid) for rid in self.ids})
            self._sync_capture("unlink", spec)
        return super().unlink()

    def _update_field_translations(self, field_name, translations, digest=None, source_lang=None):
        # the translation dialog of the web client writes the column with a raw UPDATE, never through
        # _write_multi: a translated name changed there changes the document too
        result = super()._update_field_translations(field_name, translations, digest=digest,
                                                     source_lang=source_lang)
        capture_map = self._sync_capture_map()
        spec = capture_map.get(self._name) if capture_map else None
        if spec is not None and self and self._fields[field_name].store:
            if spec["any_field"] or field_name in spec["fields"]:
                self._sync_capture("write", spec)
            if field_name in spec["triggers"]:
                self._sync_capture_dependents(capture_map, {field_name})
        return result

    # ------------------------------------------------------------------
    def _sync_capture_map(self):
        """The capture map (``{model: spec}``) of this registry, or None when nothing may be captured now.

        No context key switches capture off: a context travels with any RPC call, and a change that a caller
        could keep from being captured would be lost for the other side.
        """
        pool = self.pool
        if not pool.ready and SUITE_MODULE not in pool._init_modules:
            # loading, and the suite's models and tables are not (all) there yet
            return None
        if "sync.data.type" not in pool:
            return None
        if not pool.ready and not hasattr(pool, "_sync_capture_started"):
            # the modules loaded before capture started in this run: their changes are captured at the end of the
            # loading (sync.change._register_hook)
            pool._sync_capture_started = frozenset(pool._init_modules)
        data_types = self.env["sync.data.type"]
        # Read the ormcache entry directly: calling the decorated method costs
        # its signature binding on every write() of every model.
        entries, key = compat.ormcache_entry(data_types._capture_map)
        if not pool.ready:
            # the registry grows while modules load: one map per set of loaded models, in the same cache, so a
            # configuration change clears it too
            key = (*key, "loading", len(pool.models))
        with contextlib.suppress(KeyError):
            return entries[key]
        if pool.ready:
            return data_types._capture_map()
        try:
            # a module loaded after the suite may change its configuration models (a column not created yet):
            # never break an install
            with self.env.cr.savepoint(flush=False):
                result = compat.ormcache_compute(data_types._capture_map)
        except Exception:  # any error of a half-loaded registry: its changes are captured at the end instead
            _logger.info("The capture map cannot be read while this module loads: its changes are captured at the "
                         "end of the loading", exc_info=True)
            pool._sync_capture_missed = True
            result = None
        entries[key] = result
        return result

    def _sync_capture_spec(self):
        """What capture watches on this model (see ``sync.data.type._capture_map``), or None."""
        capture_map = self._sync_capture_map()
        return capture_map.get(self._name) if capture_map else None

    def _sync_capture(self, operation, spec):
        """Write the records' change (and their parents' documents) to this transaction's outbox."""
        origins = self._sync_origins()
        rows = []
        if spec["self"] and spec[operation]:
            payloads = self._sync_deletion_payloads() if operation == "unlink" else {}
            rows += [(self._name, record_id, operation, payloads.get(record_id), origins[record_id])
                     for record_id in self.ids]
        for parent_model, inverse_name in spec["parents"]:
            for record in self.sudo():
                rows += [(parent_model, parent_id, "write", None, origins[record.id])
                         for parent_id in record[inverse_name].ids]
        if rows:
            self.env["sync.change"].sudo()._insert_captured(rows)

    def _sync_note_origin(self, fnames=()):
        """Remember on whose behalf ``write()`` changes the records, until their ``UPDATE`` is captured.

        The inbound endpoint and the pull apply documents with the context key
        ``sync_origin_system_ids``, so that nothing goes back to the systems a
        change came from.  A field change is captured at flush, and a flush
        runs in whatever environment asks for it (the commit flushes with the
        transaction's default one), not in the environment of ``write()``: the
        origin is noted here, per record, and a later local ``write()`` of the
        same record notes that it is local again.
        """
        noted = self.env.cr.precommit.data.setdefault(ORIGINS_KEY, {})
        origin = _context_origin(self.env)
        for record_id in self._ids:
            noted[(self._name, record_id)] = origin
        if origin is not None and fnames:
            self._sync_note_origin_of_dependents(fnames)

    def _sync_note_origin_of_dependents(self, fnames, create=False):
        """Note the origin of this write on the records whose stored fields Odoo recomputes because of it (a
        company renamed for a system renames its contacts' commercial company name): flushed later, in
        whatever environment, they are changes made for the same systems.  A record noted as changed locally
        stays local."""
        fields_ = [self._fields[fname] for fname in fnames if fname in self._fields]
        tree = self.pool.get_trigger_tree(fields_) if fields_ else None
        if not tree:
            return
        noted = self.env.cr.precommit.data.setdefault(ORIGINS_KEY, {})
        origin = _context_origin(self.env)
        for _field, records, _create in self.sudo().with_context(active_test=False)._modified_triggers(tree,
                                                                                                          create):
            for record_id in records._ids:
                if record_id:
                    noted.setdefault((records._name, record_id), origin)

    def _sync_origins(self):
        """``{id: origin}`` of the records' change: the systems it was made for (a tuple of ids), or None for a
        local change, which goes everywhere."""
        origin = _context_origin(self.env)
        noted = self.env.cr.precommit.data.get(ORIGINS_KEY) if origin is None else None
        if not noted:
            return dict.fromkeys(self._ids, origin)
        return {record_id: noted.get((self._name, record_id)) for record_id in self._ids}

    def _sync_old_parents(self, spec, written):
        """``{parent model: ids}`` of the parents the records have in the database, for the embedding fields
        in ``written``."""
        moving = [(parent_model, inverse) for parent_model, inverse in spec["parents"]
                  if inverse in written and self._fields[inverse].column_type]
        if not moving:
            return {}
        self.env.cr.execute(SQL(
            "SELECT %s FROM %s WHERE id = ANY(%s)",
            SQL(", ").join(SQL.identifier(inverse) for _model, inverse in moving),
            SQL.identifier(self._table), list(self.ids),
        ))
        old = {}
        for row in self.env.cr.fetchall():
            for (parent_model, _inverse), parent_id in zip(moving, row, strict=True):
                if parent_id:
                    old.setdefault(parent_model, set()).add(parent_id)
        return old

    def _sync_capture_parents(self, parents):
        # the parents a record leaves changed on behalf of the systems the record's own change came from
        origin = _common_origin(self._sync_origins().values())
        rows = [(model, parent_id, "write", None, origin) for model, ids in parents.items() for parent_id in ids]
        if rows:
            self.env["sync.change"].sudo()._insert_captured(rows)

    def _sync_capture_dependents(self, capture_map, fnames, create=False, exclude=None):
        """Capture the records whose watched non-stored fields depend on ``fnames`` of ``self``.

        Odoo's own dependency graph says which those are: the trigger tree of
        the fields, restricted to the watched fields, walked backwards from
        ``self`` as ``modified()`` does to invalidate the cache.
        """
        spec = capture_map[self._name]
        tree = self.pool.get_trigger_tree([self._fields[fname] for fname in fnames],
                                          select=spec["targets"].__contains__)
        if not tree:
            return
        found = defaultdict(set)
        for _field, records, _create in self.sudo().with_context(active_test=False)._modified_triggers(tree, create):
            found[records._name].update(rid for rid in records._ids if rid)
        for model, ids in found.items():
            if exclude is not None and model == exclude._name:
                ids -= set(exclude._ids)
            dependent_spec = capture_map.get(model)
            if ids and dependent_spec is not None:
                self.env[model].browse(sorted(ids))._sync_capture("write", dependent_spec)

    def _sync_capture_paths(self, capture_map, spec, written, exclude=None):
        """Capture the records whose template lines show ``written`` fields of ``self`` through a dotted path
        (``{country_id.code}``: the partners of a country whose code changed); every path when ``written`` is
        None (``self`` is being deleted)."""
        for model, path, names in spec["paths"]:
            target_spec = capture_map.get(model)
            if target_spec is None or (written is not None and names.isdisjoint(written)):
                continue
            dependents = self.env[model].sudo().with_context(active_test=False).search(
                [(path, "in", list(self._ids))], order="id")
            if exclude is not None and model == exclude._name:
                dependents -= exclude
            if dependents:
                dependents._sync_capture("write", target_spec)

    def _sync_shared_relations(self, spec, fnames):
        """The relation tables of the many2many fields among ``fnames`` that watched records hold on their
        side too (``spec["relations"]``)."""
        if not spec["relations"]:
            return set()
        shared = {table for _model, table, _column, _other in spec["relations"]}
        return {field.relation for field in map(self._fields.get, fnames)
                if field is not None and field.type == "many2many" and field.relation in shared}

    def _sync_capture_relations(self, capture_map, spec, exclude=None, tables=None):
        """Capture, as updated, the records whose watched many2many field holds ``self`` in its relation table:
        before a deletion, whose rows the database deletes (deleting a tag changes the tags of its partners),
        and around a write of the same relation from this side (only ``tables`` then)."""
        for model, table, column, other in spec["relations"]:
            target_spec = capture_map.get(model)
            if target_spec is None or (tables is not None and table not in tables):
                continue
            self.env.cr.execute(SQL("SELECT DISTINCT %s FROM %s WHERE %s = ANY(%s) ORDER BY 1", SQL.identifier(column),
                                    SQL.identifier(table), SQL.identifier(other), list(self._ids)))
            ids = [rid for (rid,) in self.env.cr.fetchall()]
            if exclude is not None and model == exclude._name:
                ids = [rid for rid in ids if rid not in exclude._ids]
            if ids:
                self.env[model].browse(ids)._sync_capture("write", target_spec)

    def _sync_capture_cascade(self, capture_map, spec, seen):
        """Capture what the database's foreign keys will delete (or empty) along with ``self``.

        ``ondelete='cascade'`` rows are deleted by PostgreSQL, never through
        ``unlink()``: find them now, before the ``DELETE``, transitively.
        """
        for child_model, fname, mode in spec["cascades"]:
            Child = self.env[child_model].sudo().with_context(active_test=False)
            self.env.cr.execute(SQL("SELECT id FROM %s WHERE %s = ANY(%s) ORDER BY id", SQL.identifier(Child._table),
                                    SQL.identifier(fname), list(self.ids)))
            ids = [rid for (rid,) in self.env.cr.fetchall() if (child_model, rid) not in seen]
            child_spec = capture_map.get(child_model)
            if not ids or child_spec is None:
                continue
            children = Child.browse(ids)
            if mode == "set null":
                children._sync_capture("write", child_spec)
                continue
            seen.update((child_model, rid) for rid in ids)
            if child_spec["triggers"]:
                children._sync_capture_dependents(capture_map, child_spec["triggers"], exclude=children)
            if child_spec["cascades"]:
                children._sync_capture_cascade(capture_map, child_spec, seen)
            children._sync_capture("unlink", child_spec)

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
