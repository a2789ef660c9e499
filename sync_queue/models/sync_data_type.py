import ast
import datetime

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError, ValidationError

from odoo.addons.sync_base import compat
from odoo.addons.sync_mapping.lib.template import TemplateError, paths

from ..lib import states
from .sync_mapping_line import _field_dependencies

SYNC_NOW_NAME = "Synchronize now"
SYNC_NOW_CODE = "action = env['sync.message']._action_sync_now(records)"


def _domain_fields(domain_text):
    """First field names of a domain's leaves, or None when the domain cannot be read statically."""
    try:
        domain = ast.literal_eval(domain_text or "[]")
    except (ValueError, SyntaxError):
        return None
    names = set()
    for leaf in domain:
        if isinstance(leaf, (list, tuple)) and len(leaf) == 3 and isinstance(leaf[0], str):
            names.add(leaf[0].split(".")[0])
    return names


class SyncDataType(models.Model):
    _name = "sync.data.type"
    _inherit = ["sync.data.type", "sync.capture.config.mixin"]

    message_ids = fields.One2many("sync.message", "data_type_id", string="Messages")
    accept_inbound = fields.Boolean(
        string="Accept Incoming",
        help="Documents of this message type that the target systems send in are applied through this data type.",
    )
    message_count = fields.Integer(compute="_compute_message_count")

    def _compute_message_count(self):
        counts = dict(self.env["sync.message"]._read_group([("data_type_id", "in", self.ids)], ["data_type_id"],
                                                           ["__count"]))
        for data_type in self:
            data_type.message_count = counts.get(data_type, 0)

    # ------------------------------------------------------------------
    # The capture map, cached in the registry
    # ------------------------------------------------------------------
    @api.model
    @tools.ormcache()
    def _capture_map(self):
        """``{model: spec}`` of what capture watches; cleared with the registry cache on any configuration change.

        ``spec``: ``self`` (the model has triggering data types), ``create``,
        ``write``, ``unlink`` (which operations are captured), ``fields`` and
        ``any_field`` (which written fields matter), ``parents`` (``(model,
        inverse field)`` of documents that embed this model's records),
        ``triggers`` (fields that watched non-stored fields depend on, per
        Odoo's dependency graph; ``relational_triggers`` the relational ones),
        ``targets`` (those watched non-stored fields), ``cascades`` (``(model,
        field, ondelete)`` of rows the database deletes or empties with this
        model's records and that capture must see), ``paths`` (``(model, path,
        fields)``: a change of ``fields`` of this model's records is a change
        of the ``model`` records whose dotted ``path`` in a template line leads
        to them), ``relations`` (``(model, table, column, other column)``: the
        many2many rows that PostgreSQL deletes with this model's records change
        the watched many2many field of those ``model`` records).
        """
        result = {}
        targets = set()

        def entry(model):
            return result.setdefault(model, {"self": False, "create": False, "write": False, "unlink": False,
                                             "fields": set(), "any_field": False, "parents": set(),
                                             "triggers": set(), "cascades": set(), "paths": {},
                                             "relations": set()})

        def watch(model_name, names):
            for name in names or ():
                field = self.env[model_name]._fields.get(name)
                if field is None or field.store:
                    continue
                for dependency in _field_dependencies(field, self.pool):
                    entry(dependency.model_name)["triggers"].add(dependency.name)
                targets.add(field)

        for data_type in self.sudo().search([("enabled", "=", True), ("trigger", "!=", "manual")]):
            if data_type.model_name not in self.env:
                continue  # while loading: its module is not loaded yet
            spec = entry(data_type.model_name)
            spec["self"] = True
            spec["create"] |= data_type.trigger in states.CREATE_TRIGGERS
            spec["write"] |= data_type.trigger in states.WRITE_TRIGGERS
            spec["unlink"] |= data_type.sync_deletion or data_type.on_leave == "delete"
            watched = data_type._watched_fields()
            if watched is None:
                spec["any_field"] = True
            else:
                spec["fields"] |= watched
            watch(data_type.model_name, watched)
            self._capture_template_paths(data_type, entry)
            for line in data_type.line_ids.filtered(lambda line: line.line_type == "model"):
                field = self.env[data_type.model_name]._fields.get(line.value)
                if field is not None and field.type == "one2many" and line.reference_id:
                    child = entry(field.comodel_name)
                    child["parents"].add((data_type.model_name, field.inverse_name))
                    child_fields = line.reference_id._watched_fields()
                    if child_fields is None:
                        child["any_field"] = True
                    else:
                        child["fields"] |= child_fields | {field.inverse_name}
                    watch(field.comodel_name, child_fields)
                    self._capture_template_paths(line.reference_id, entry)
        self._capture_cascades(result, entry)
        self._capture_relations(result, entry)
        targets = frozenset(targets)
        for model, spec in result.items():
            fields_ = self.env[model]._fields
            spec["fields"] = frozenset(spec["fields"])
            spec["parents"] = tuple(sorted(spec["parents"]))
            spec["triggers"] = frozenset(spec["triggers"])
            spec["relational_triggers"] = frozenset(name for name in spec["triggers"] if fields_[name].relational)
            spec["targets"] = targets
            spec["cascades"] = tuple(sorted(spec["cascades"]))
            spec["relations"] = tuple(sorted(spec["relations"]))
            spec["paths"] = tuple(sorted((model, path, frozenset(names))
                                         for (model, path), names in spec["paths"].items()))
        return result

    def _capture_template_paths(self, data_type, entry):
        """Follow the dotted paths of ``data_type``'s template lines: a template's ``{country_id.code}`` watches
        the code on the country, whose change is the change of the records whose ``country_id`` it is."""
        for line in data_type.line_ids.filtered(lambda line: line.line_type == "default"):
            try:
                chains = paths(line.value or "")
            except TemplateError:
                continue  # _watched_fields says "any field" for it
            for chain in chains:
                current = self.env[data_type.model_name]
                for position, name in enumerate(chain[:-1]):
                    field = current._fields.get(name)
                    if field is None or not field.relational:
                        break
                    current = self.env[field.comodel_name]
                    target = current._fields.get(chain[position + 1])
                    if target is None:
                        break
                    names = {target.name} if target.store else {
                        dependency.name for dependency in _field_dependencies(target, self.pool)
                        if dependency.model_name == current._name}
                    key = (data_type.model_name, ".".join(chain[:position + 1]))
                    entry(current._name)["paths"].setdefault(key, set()).update(names)

    def _capture_relations(self, result, entry):
        """Add to ``result`` the models whose deletion empties a watched many2many field of captured records:
        the rows of its relation table go by the database's foreign key, never through ``write()``."""
        for model, spec in list(result.items()):
            if not (spec["self"] or spec["parents"]):
                continue
            for field in self.env[model]._fields.values():
                if field.type == "many2many" and field.store and (spec["any_field"] or field.name in spec["fields"]):
                    entry(field.comodel_name)["relations"].add((model, field.relation, field.column1, field.column2))

    def _capture_cascades(self, result, entry):
        """Add to ``result`` the models whose deletion makes the database delete (or empty a watched field of)
        records that capture must see: ``ondelete`` foreign keys never go through ``unlink()``."""
        parents_of = {}  # {model: [(model its rows point to, field, ondelete)]}
        for model in result:
            Model = self.env[model]
            if Model._abstract or not Model._auto:
                continue
            parents_of[model] = [
                (field.comodel_name, field.name, field.ondelete) for field in Model._fields.values()
                if field.type == "many2one" and field.store and not field.inherited and field.column_type
                and field.ondelete in ("cascade", "set null")
            ]
        todo = [model for model, spec in result.items() if spec["self"] or spec["parents"] or spec["triggers"]]
        reached = set(todo)
        while todo:
            model = todo.pop()
            spec = result[model]
            if model not in parents_of:
                Model = self.env[model]
                parents_of[model] = [] if Model._abstract or not Model._auto else [
                    (field.comodel_name, field.name, field.ondelete) for field in Model._fields.values()
                    if field.type == "many2one" and field.store and not field.inherited and field.column_type
                    and field.ondelete == "cascade"
                ]
            for parent_model, fname, ondelete in parents_of[model]:
                if ondelete == "set null" and not (spec["self"] and (spec["any_field"] or fname in spec["fields"])):
                    continue
                entry(parent_model)["cascades"].add((model, fname, ondelete))
                if ondelete == "cascade" and parent_model not in reached:
                    reached.add(parent_model)
                    todo.append(parent_model)

    @api.constrains("trigger", "enabled")
    def _check_capturable_lines(self):
        """A data type that starts capturing changes has only lines whose changes can be captured."""
        self.line_ids._check_capturable()

    def _watched_fields(self):
        """Fields whose change matters to this data type's documents, or None for "any field"."""
        self.ensure_one()
        names = set()
        for line in self.line_ids:
            if line.line_type in ("field", "model", "reference"):
                names.add(line.value)
            elif line.line_type == "default":
                try:
                    names |= {chain[0] for chain in paths(line.value or "")}
                except TemplateError:
                    return None
            else:
                return None  # Python code may read anything
        names |= set(self.condition_ids.mapped("field_name"))
        domain_names = _domain_fields(self.domain)
        if domain_names is None:
            return None
        return names | domain_names

    # ------------------------------------------------------------------
    # Inbound
    # ------------------------------------------------------------------
    @api.constrains("accept_inbound", "enabled", "system_ids", "library_id", "schema_id", "message_type")
    def _check_accept_inbound(self):
        """One data type at most applies a message type received from a system.

        Two data types sharing a schema share its message type: both may send
        it, only one may accept it from a given system.  Listed on every field
        that leads there, the stored ``message_type`` included (recomputed when
        a library or a schema changes, which checks it again); a data type
        without a schema has no message type and receives nothing.
        """
        for data_type in self.filtered(lambda t: t.accept_inbound and t.enabled and t.message_type):
            for system in data_type.system_ids:
                # as superuser: a data type the current user cannot read still takes the messages
                others = self.sudo()._inbound_data_type(system, data_type.message_type) - data_type
                if others:
                    raise ValidationError(_(
                        "Data types %(first)s and %(second)s both accept messages of type %(type)s from "
                        "%(system)s: only one may.", first=data_type.display_name, second=others[0].display_name,
                        type=data_type.message_type, system=system.display_name,
                    ))

    @api.model
    def _inbound_data_type(self, system, message_type):
        """The enabled data types that accept ``message_type`` from ``system`` (at most one, once saved)."""
        return self.search([("message_type", "=", message_type), ("enabled", "=", True),
                            ("accept_inbound", "=", True), ("system_ids", "in", system.ids)])

    def _apply_inbound_deletion(self, system, payload, remote_ref):
        """Delete or archive (``delete_mode``) the record a received deletion names; return it.

        Only a record bound to the calling system (its ``sync.binding``) is
        the caller's to delete: a record that merely has the payload's primary
        values was never received from it and is left alone.  A record that
        is not there, or not bound, is nothing to do, and no error, so a
        replayed deletion succeeds.

        As for ``_upsert``, the current user (this recordset's environment:
        the system's inbound user) is who deletes, with its rights and record
        rules; the configuration and the bindings are read by the suite.  A
        bound record still there that the user may not read is neither
        deleted nor forgotten: the deletion waits (a reference not resolved
        yet) until a manager gives the user access to it.
        """
        self.ensure_one()
        target_env = self.env  # the applying user: see _upsert
        config = self.sudo()
        Model = target_env[config.model_name].with_context(active_test=False)
        remote_model, ref = remote_ref
        binding = self.env["sync.binding"].sudo()._find_local(system, remote_model, ref).filtered(
            lambda b: b.model == config.model_name)
        record = config._bound_record(Model, binding, ref) if binding else Model.browse()
        if not record:
            binding.sudo().unlink()
            return record
        if config.delete_mode == "archive":
            if record.active:
                record.active = False
        else:
            # only the caller's binding: the other targets still need theirs to get the deletion
            self.env["sync.binding"].sudo().search(
                [("system_id", "=", system.id), ("model", "=", config.model_name), ("res_id", "=", record.id)]
            ).unlink()
            record.unlink()
        return record

    # ------------------------------------------------------------------
    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("sync_queue.sync_message_action")
        action["domain"] = [("data_type_id", "=", self.id)]
        action["context"] = {}
        return action

    def action_queue_all(self):
        """Queue every record matching the conditions and the domain, for every target system (managers)."""
        self.ensure_one()
        if not self.env.user.has_group("sync_base.group_sync_manager"):
            raise AccessError(_("Only synchronization managers can queue every record of a data type."))
        records = self.env[self.model_name].search(self._get_domain())
        count = self.env["sync.message"]._queue_records(self, records, "upsert")
        if count:
            # sent right after this commit, as Synchronize Now and Retry are, not at the schedulers' next run
            self.env["sync.message"]._trigger_send()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": _("%(count)s messages queued.", count=count), "type": "success"},
        }


    def _reference_keys(self, records):
        """``{record id: [[model, id], ...]}`` of the records each document references through reference lines."""
        self.ensure_one()
        keys = {}
        for line in self.line_ids.filtered(lambda line: line.line_type == "reference"):
            field = records._fields.get(line.value)
            if field is None:
                continue
            for record in records.sudo():
                for related in record[line.value]:
                    if related._name != record._name or related.id != record.id:
                        keys.setdefault(record.id, []).append([related._name, related.id])
        return keys

    def _next_interval_at(self):
        """The next moment an interval data type sends what it gathered."""
        self.ensure_one()
        minutes = max(self.interval_minutes or 10, 1)
        now = fields.Datetime.now()
        epoch_minutes = int(now.timestamp() // 60)
        return fields.Datetime.to_datetime(
            datetime.datetime.fromtimestamp((epoch_minutes // minutes + 1) * minutes * 60, datetime.timezone.utc)
            .replace(tzinfo=None)
        )

    # ------------------------------------------------------------------
    # "Synchronize now" on the synchronized models
    # ------------------------------------------------------------------
    @api.model
    def _sync_now_actions(self):
        """Keep one "Synchronize now" action on each model that has a data type, and none elsewhere."""
        Actions = self.env["ir.actions.server"].sudo()
        wanted = set(self.sudo().search([]).mapped("model_id").ids)
        existing = Actions.search([("name", "=", SYNC_NOW_NAME), ("state", "=", "code"),
                                   ("code", "=", SYNC_NOW_CODE)])
        for action in existing:
            if action.model_id.id not in wanted:
                action.unlink()
        have = set(existing.exists().mapped("model_id").ids)
        group = self.env.ref("sync_base.group_sync_user")
        for model_id in wanted - have:
            Actions.create({
                "name": SYNC_NOW_NAME, "model_id": model_id, "binding_model_id": model_id, "state": "code",
                "code": SYNC_NOW_CODE, compat.GROUP_IDS: [(6, 0, group.ids)], "binding_view_types": "list,form",
            })

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self._sync_now_actions()
        return records

    def write(self, vals):
        result = super().write(vals)
        if "model_id" in vals:
            self._sync_now_actions()
        return result

    def unlink(self):
        result = super().unlink()
        self._sync_now_actions()
        return result
