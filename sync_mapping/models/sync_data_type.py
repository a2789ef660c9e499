import json
import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tools import split_every
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import safe_eval

from odoo.addons.sync_base.lib.codec import SUPPORTED_TYPES, CodecError, decode_value, encode_value
from odoo.addons.sync_base.lib.envelope import BINDING_REF

from ..lib import schema_gen
from ..lib.template import TemplateError, is_json_template, render

_logger = logging.getLogger(__name__)

MAX_DEPTH = 8
# field types whose cache value is the record value (or None for False), and for
# relational fields the ids: what documents hold
CACHE_SAFE_TYPES = frozenset({"boolean", "integer", "float", "char", "text", "html", "selection", "date", "datetime",
                              "many2one"})
BATCH_SIZE = 1000


class SyncMappingError(UserError):
    """A record cannot be serialized, or a document cannot be applied; the message says which and where."""


class SyncUnresolvedReference(SyncMappingError):
    """A document references a record that is not here (yet): it may arrive later, so another try may apply it.

    Receivers answer it as a passing failure (the sender retries), never as
    bad input; the message names the missing record.
    """


def _encode(field, value):
    if field.type == "many2one":
        return value.id or None
    if field.type in ("one2many", "many2many"):
        return value.ids
    if field.type not in SUPPORTED_TYPES:
        return None if value is False else str(value)
    return encode_value(field.type, value)


def _decode(field, value):
    if field.type == "many2one":
        return int(value) if value else False
    if field.type in ("one2many", "many2many"):
        return [Command.set([int(v) for v in value or []])]
    if field.type not in SUPPORTED_TYPES:
        return value
    return decode_value(field.type, value)


class SyncDataType(models.Model):
    """Maps an Odoo model to a JSON schema: which records, which properties, which systems."""

    _name = "sync.data.type"
    _description = "Synchronization Data Type"
    _order = "library_id, sequence, name, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    library_id = fields.Many2one("sync.library", required=True, ondelete="cascade", index=True)
    model_id = fields.Many2one("ir.model", string="Model", required=True, ondelete="cascade")
    model_name = fields.Char(related="model_id.model", store=True, index=True, string="Model Name")
    schema_id = fields.Many2one(
        "sync.schema", string="Schema", ondelete="restrict", domain="[('library_id', '=', library_id)]"
    )
    message_type = fields.Char(compute="_compute_message_type", store=True, index=True)
    enabled = fields.Boolean(
        default=True,
        help="A disabled data type is kept, triggers nothing, and can still be embedded by another one.",
    )
    line_ids = fields.One2many("sync.mapping.line", "data_type_id", string="Mapping Lines", copy=True)
    trigger = fields.Selection(
        [
            ("on_create", "On creation"),
            ("on_write", "On update"),
            ("on_create_or_write", "On creation and update"),
            ("interval", "At intervals"),
            ("manual", "Manually"),
        ],
        required=True,
        default="on_create_or_write",
    )
    interval_minutes = fields.Integer(default=10, help="Interval trigger: changes are sent together this often.")
    condition_ids = fields.One2many("sync.condition", "data_type_id", string="Conditions", copy=True)
    domain = fields.Char(default="[]", help="Only records matching this domain (and the conditions) are sent.")
    system_ids = fields.Many2many("sync.system", string="Target Systems")
    sync_deletion = fields.Boolean(string="Send Deletions")
    delete_mode = fields.Selection(
        [("unlink", "Delete"), ("archive", "Archive")],
        required=True,
        default="unlink",
        help="How a received deletion is applied; archiving needs an 'active' field on the model.",
    )
    on_leave = fields.Selection(
        [("ignore", "Ignore"), ("delete", "Send a deletion")],
        required=True,
        default="ignore",
        help="What a record that was sent gets when it stops matching the conditions or the domain.",
    )
    line_count = fields.Integer(compute="_compute_line_count")

    _sql_constraints = [
        ("name_library_unique", "unique(library_id, name)", "The name of a data type must be unique in its library."),
        ("interval_positive", "check(interval_minutes > 0)", "The interval must be at least one minute."),
    ]

    @api.depends("library_id.slug", "schema_id.slug")
    def _compute_message_type(self):
        for data_type in self:
            if data_type.library_id.slug and data_type.schema_id.slug:
                data_type.message_type = f"{data_type.library_id.slug}.{data_type.schema_id.slug}"
            else:
                data_type.message_type = False

    @api.depends("line_ids")
    def _compute_line_count(self):
        for data_type in self:
            data_type.line_count = len(data_type.line_ids)

    @api.constrains("domain", "model_id")
    def _check_domain(self):
        for data_type in self:
            domain = data_type._get_domain()
            try:
                with self.env.cr.savepoint():
                    self.env[data_type.model_name].search_count(domain, limit=1)
            except Exception as exc:  # noqa: BLE001 - any error of the ORM means a bad domain
                raise ValidationError(
                    _("The domain of %(name)s is invalid: %(error)s", name=data_type.display_name, error=exc)
                ) from None

    @api.constrains("delete_mode", "model_id")
    def _check_delete_mode(self):
        for data_type in self:
            if data_type.delete_mode == "archive" and "active" not in self.env[data_type.model_name]._fields:
                raise ValidationError(
                    _("%(name)s archives received deletions, but %(model)s has no 'active' field.",
                      name=data_type.display_name, model=data_type.model_name)
                )

    @api.constrains("schema_id", "library_id")
    def _check_schema_library(self):
        for data_type in self:
            if data_type.schema_id and data_type.schema_id.library_id != data_type.library_id:
                raise ValidationError(
                    _("The schema of %(name)s must belong to its library.", name=data_type.display_name)
                )

    # ------------------------------------------------------------------
    # Selection of records
    # ------------------------------------------------------------------
    def _get_domain(self):
        """The data type's domain and conditions, as one Odoo domain."""
        self.ensure_one()
        try:
            domain = safe_eval(self.domain or "[]", self.env["ir.rule"]._eval_context())
        except Exception as exc:  # noqa: BLE001 - shown to the admin
            raise ValidationError(
                _("The domain of %(name)s cannot be read: %(error)s", name=self.display_name, error=exc)
            ) from None
        if not isinstance(domain, (list, tuple)):
            raise ValidationError(_("The domain of %(name)s must be a list.", name=self.display_name))
        return [condition._to_leaf() for condition in self.condition_ids] + list(domain)

    def _filter_matching(self, records):
        """The records that pass the conditions and the domain, as they are now."""
        self.ensure_one()
        if not records:
            return records
        domain = [("id", "in", records.ids)] + self._get_domain()
        matching = records.with_context(active_test=False).search(domain)
        return records.filtered(lambda r: r in matching)

    def _filter_company(self, records, system):
        """Drop records of another company than ``system``'s: they never reach it."""
        company = system.company_id if system else None
        if not company or "company_id" not in records._fields:
            return records
        if not records._fields["company_id"].store:
            return records.filtered(lambda r: not r.company_id or r.company_id == company)
        # one query rather than reading the field record by record: serialization asks it for every batch
        query = records.sudo().with_context(active_test=False)._search(
            [("id", "in", records.ids), ("company_id", "in", [False, company.id])])
        allowed = set(query)
        return records.browse([record_id for record_id in records.ids if record_id in allowed])

    def _prepare_env(self, records, system):
        if not system:
            return records
        records = records.with_context(lang=system.lang or self.env.lang)
        if system.company_id:
            records = records.with_company(system.company_id)
        return records

    # ------------------------------------------------------------------
    # Serialization
    # ------------------------------------------------------------------
    def _serialize(self, records, system=None):
        """The records as JSON-ready documents, in order.

        Records of another company than ``system``'s are left out.  Raises
        :class:`SyncMappingError` naming the record and the property when a
        record cannot be serialized or its document does not validate.
        """
        documents = []
        for _record, document, error in self._serialize_collect(records, system):
            if error:
                raise error
            documents.append(document)
        return documents

    def _serialize_collect(self, records, system=None):
        """Like :meth:`_serialize`, one entry ``(record, document, error)`` per record, one bad record failing alone."""
        self.ensure_one()
        if records._name != self.model_name:
            raise SyncMappingError(
                _("%(data_type)s maps %(model)s, not %(other)s.", data_type=self.display_name,
                  model=self.model_name, other=records._name)
            )
        if self.schema_id:
            self.schema_id._ensure_valid()
        records = self._prepare_env(self._filter_company(records, system), system)
        results = []
        for ids in split_every(BATCH_SIZE, records.ids):
            batch = records.browse(ids)
            for record, (document, error) in zip(batch, self._serialize_batch(batch, system, (self,)), strict=True):
                if error is None:
                    error = self._validate_document(record, document)
                results.append((record, None if error else document, error))
        return results

    def _validate_document(self, record, document):
        if not self.schema_id:
            return SyncMappingError(
                _("%(data_type)s has no schema: generate one, or choose one.", data_type=self.display_name)
            )
        errors = self.schema_id._validation_errors(document)
        if not errors:
            return None
        details = "; ".join(f"property {path}: {message}" for path, message in errors)
        return SyncMappingError(
            _("%(record)s (%(name)s) does not validate against %(schema)s: %(details)s",
              record=f"{record._name},{record.id}", name=record.display_name,
              schema=self.schema_id.display_name, details=details)
        )

    def _serialize_batch(self, records, system, stack):
        """``[(document, error)]`` for a batch: each field read once for the whole batch."""
        if len(stack) > MAX_DEPTH:
            raise SyncMappingError(
                _("%(data_type)s embeds itself deeper than %(max)s levels: %(path)s",
                  data_type=stack[0].display_name, max=MAX_DEPTH, path=" \u2192 ".join(t.name for t in stack))
            )
        lines = self.line_ids.sorted(lambda line: (line.sequence, line.id))
        fnames = [line.value for line in lines if line.line_type in ("field", "model", "reference")]
        if records and fnames:
            records.fetch([f for f in fnames if f in records._fields])
        documents = [{} for _r in records]
        errors = [None] * len(records)
        for line in lines:
            name = line.name
            values = self._serialize_line(line, records, system, stack)
            for index, value in enumerate(values):
                if isinstance(value, Exception):
                    errors[index] = errors[index] or value
                else:
                    documents[index][name] = value
        return list(zip(documents, errors, strict=True))

    def _line_error(self, line, record, error):
        return SyncMappingError(
            _("%(record)s (%(name)s), property %(prop)s of %(data_type)s: %(error)s",
              record=f"{record._name},{record.id}", name=record.display_name, prop=line.name,
              data_type=self.display_name, error=error)
        )

    def _serialize_line(self, line, records, system, stack):
        method = getattr(self, f"_serialize_{line.line_type}_line")
        return method(line, records, system, stack)

    def _serialize_field_line(self, line, records, system, stack):
        field = records._fields[line.value]
        if field.type in CACHE_SAFE_TYPES and field.store:
            # The batch was fetched at once: read the values from the cache
            # rather than through a descriptor call per record and field.
            cached = records.env.cache.get_until_miss(records, field)
            if len(cached) == len(records):
                return self._encode_cached(line, field, records, cached)
        values = []
        for record in records:
            try:
                values.append(_encode(field, record[line.value]))
            except CodecError as exc:
                values.append(self._line_error(line, record, exc))
        return values

    def _encode_cached(self, line, field, records, cached):
        if field.type == "many2one":
            return [value or None for value in cached]
        if field.type in ("one2many", "many2many"):
            return [list(value) for value in cached]
        values = []
        for record, value in zip(records, cached, strict=True):
            try:
                values.append(encode_value(field.type, False if value is None else value))
            except CodecError as exc:
                values.append(self._line_error(line, record, exc))
        return values

    def _serialize_model_line(self, line, records, system, stack):
        related = records.mapped(line.value)
        embedded = {}
        if related:
            pairs = line.reference_id._serialize_batch(related, system, (*stack, line.reference_id))
            embedded = dict(zip(related.ids, pairs, strict=True))
        values = []
        for record in records:
            docs = [embedded[r.id] for r in record[line.value]]
            error = next((e for _d, e in docs if e), None)
            if error:
                values.append(error)
            elif line.cardinality == "2one":
                values.append(docs[0][0] if docs else None)
            else:
                values.append([doc for doc, _e in docs])
        return values

    def _primary_values(self, records):
        """``{record id: {property: value}}`` of the data type's primary properties, JSON-encoded."""
        self.ensure_one()
        primaries = self.line_ids.filtered("primary")
        return {
            record.id: {line.name: _encode(record._fields[line.value], record[line.value]) for line in primaries}
            for record in records
        } if primaries else {}

    def _reference_values(self, line, related, system):
        """The reference of each related record: the receiver's id (``{"$ref": ...}``, from the binding), else
        primary values, else display name."""
        bindings = {}
        if system and related:
            bindings = self.env["sync.binding"].sudo()._find(system, related._name, related.ids)
        primaries = line.reference_id._primary_values(related) if line.reference_id else {}
        refs = {}
        for record in related:
            if record.id in bindings:
                refs[record.id] = {BINDING_REF: bindings[record.id].remote_ref}
            elif record.id in primaries:
                refs[record.id] = primaries[record.id]
            else:
                refs[record.id] = {"name": record.display_name}
        return refs

    def _serialize_reference_line(self, line, records, system, stack):
        related = records.mapped(line.value)
        refs = self._reference_values(line, related, system)
        if line.cardinality == "2one":
            return [refs.get(record[line.value].id) for record in records]
        return [[refs[r.id] for r in record[line.value]] for record in records]

    def _serialize_default_line(self, line, records, system, stack):
        values = []
        for record in records:
            try:
                values.append(render(line.value or "", lambda path, r=record: self._resolve_path(r, path)))
            except (TemplateError, CodecError) as exc:
                values.append(self._line_error(line, record, exc))
        return values

    @staticmethod
    def _resolve_path(record, path):
        value = record
        for segment in path:
            value = value[:1][segment]
        if isinstance(value, models.BaseModel):
            return value[:1].display_name or None
        model = record.env[record._name]
        for segment in path[:-1]:
            model = record.env[model._fields[segment].comodel_name]
        return _encode(model._fields[path[-1]], value)

    def _serialize_code_line(self, line, records, system, stack):
        values = []
        for record in records:
            try:
                value = safe_eval(
                    line.value or "None",
                    {"record": record, "obj": record, "datetime": safe_datetime, "system": system},
                )
                if isinstance(value, models.BaseModel):
                    raise TypeError(_("the expression returns records; return their ids or names instead"))
                json.dumps(value, allow_nan=False)
            except Exception as exc:  # noqa: BLE001 - a bad line fails its record only
                values.append(self._line_error(line, record, f"{type(exc).__name__}: {exc}"))
            else:
                values.append(value)
        return values

    # ------------------------------------------------------------------
    # Upsert
    # ------------------------------------------------------------------
    def _upsert(self, documents, system=None, remote_refs=None):
        """Apply ``documents`` to records and return them, in order.

        A document is matched to a record by its binding on ``system``
        (``remote_refs[i]``: a reference, or a ``(remote_model, reference)``
        pair), else by its primary properties; otherwise a record is created.
        Related records go through ``model`` lines, references are resolved,
        and one2many children are created, updated and removed to match.
        Writes go through the ORM with the current user's rights, and only
        what differs is written, so applying a document twice changes nothing.
        """
        self.ensure_one()
        records = self.env[self.model_name].browse()
        for index, document in enumerate(documents):
            remote_ref = remote_refs[index] if remote_refs else None
            records |= self._upsert_one(document, system, remote_ref)
        return records

    def _upsert_one(self, document, system, remote_ref):
        errors = self.schema_id._validation_errors(document) if self.schema_id else []
        if errors:
            raise SyncMappingError(
                _("The document does not validate against %(schema)s: %(details)s",
                  schema=self.schema_id.display_name,
                  details="; ".join(f"property {p}: {m}" for p, m in errors))
            )
        Model = self.env[self.model_name]
        remote_model, ref = (remote_ref if isinstance(remote_ref, (tuple, list)) else (self.model_name, remote_ref))
        record = Model.browse()
        if system and ref is not None:
            binding = self.env["sync.binding"].sudo()._find_local(system, remote_model, ref)
            if binding and binding.model == self.model_name:
                record = Model.with_context(active_test=False).browse(binding.res_id).exists()
        if not record:
            record = self._find_by_primary(document)
        record = self._apply(record, document, (self,))
        if system and ref is not None:
            self.env["sync.binding"].sudo()._bind(system, record, remote_model, ref)
        return record

    def _primary_domain(self, document):
        domain = []
        for line in self.line_ids.filtered("primary"):
            if line.name not in document:
                return []
            field = self.env[self.model_name]._fields[line.value]
            domain.append((line.value, "=", self._decode(line, field, document[line.name])))
        return domain

    def _find_by_primary(self, document):
        domain = self._primary_domain(document)
        Model = self.env[self.model_name]
        if not domain:
            return Model.browse()
        found = Model.with_context(active_test=False).search(domain, limit=2)
        if len(found) > 1:
            raise SyncMappingError(
                _("%(data_type)s: the primary properties %(domain)s match several records of %(model)s.",
                  data_type=self.display_name, domain=domain, model=self.model_name)
            )
        return found

    def _decode(self, line, field, value):
        try:
            return _decode(field, value)
        except (CodecError, TypeError, ValueError) as exc:
            raise SyncMappingError(
                _("%(data_type)s, property %(prop)s: %(error)s", data_type=self.display_name, prop=line.name,
                  error=exc)
            ) from None

    def _apply(self, record, document, stack):
        """Create or update ``record`` (may be empty) from ``document``; return it."""
        vals = self._document_to_vals(document, record, stack)
        if record:
            changed = self._changed_vals(record, vals)
            if changed:
                record.write(changed)
            return record
        return self.env[self.model_name].create(vals)

    def _document_to_vals(self, document, record, stack):
        if len(stack) > MAX_DEPTH:
            raise SyncMappingError(
                _("%(data_type)s embeds itself deeper than %(max)s levels: %(path)s",
                  data_type=stack[0].display_name, max=MAX_DEPTH, path=" \u2192 ".join(t.name for t in stack))
            )
        Model = self.env[self.model_name]
        vals = {}
        for line in self.line_ids.sorted(lambda line: (line.sequence, line.id)):
            if line.name not in document or line.line_type in ("default", "code"):
                continue
            field = Model._fields[line.value]
            if field.compute and not field.inverse and field.readonly or field.name == "id":
                continue
            value = document[line.name]
            if line.line_type == "field":
                vals[line.value] = self._decode(line, field, value)
            elif line.line_type == "reference":
                vals[line.value] = self._resolve_references(line, field, value)
            else:
                vals[line.value] = self._embedded_vals(line, field, value, record, stack)
        return vals

    def _resolve_one(self, line, comodel, ref):
        if not isinstance(ref, dict):
            raise SyncMappingError(
                _("%(data_type)s, property %(prop)s: a reference must be an object, got %(value)r.",
                  data_type=self.display_name, prop=line.name, value=ref)
            )
        reference_type = line.reference_id.with_env(self.env)
        primaries = set(reference_type.line_ids.filtered("primary").mapped("name"))
        found = comodel.browse()
        if BINDING_REF in ref:
            # our own id, as the sender's binding says: a reference nothing else can be mistaken for
            found = self._browse_ref(comodel, ref[BINDING_REF])
        elif "ref" in primaries and primaries <= set(ref):
            # a record whose property "ref" has that value, never the record with that id: a customer reference
            # made of digits is no id, and a record not here yet is not ours of the same number
            try:
                found = reference_type._find_by_primary(ref)
            except SyncMappingError:
                found = comodel.browse()
        elif set(ref) == {"ref"}:
            # {"ref": <our id>}: a binding as senders before "$ref" wrote it, where no property is called ref
            found = self._browse_ref(comodel, ref["ref"])
        elif "name" in ref and len(ref) == 1:
            found = comodel.with_context(active_test=False).search([(comodel._rec_name or "id", "=", ref["name"])],
                                                                    limit=2)
        elif reference_type:
            found = reference_type._find_by_primary(ref)
        if not found:
            # not here yet: the record it names may be on its way (another message, another system)
            raise SyncUnresolvedReference(
                _("%(data_type)s, property %(prop)s: cannot resolve the reference %(value)s to one %(model)s: "
                  "no such record here (yet).",
                  data_type=self.display_name, prop=line.name, value=json.dumps(ref), model=comodel._name)
            )
        if len(found) > 1:
            raise SyncMappingError(
                _("%(data_type)s, property %(prop)s: cannot resolve the reference %(value)s to one %(model)s.",
                  data_type=self.display_name, prop=line.name, value=json.dumps(ref), model=comodel._name)
            )
        return found.id

    @staticmethod
    def _browse_ref(comodel, value):
        """The record of ``comodel`` whose id is the binding reference ``value``, if it exists."""
        try:
            return comodel.browse(int(value)).exists()
        except (TypeError, ValueError):
            return comodel.browse()

    def _resolve_references(self, line, field, value):
        comodel = self.env[field.comodel_name]
        if field.type == "many2one":
            return self._resolve_one(line, comodel, value) if value else False
        return [Command.set([self._resolve_one(line, comodel, ref) for ref in value or []])]

    def _embedded_vals(self, line, field, value, record, stack):
        ref_type = line.reference_id.with_env(self.env)
        inner_stack = (*stack, ref_type)
        if field.type == "many2one":
            if not value:
                return False
            current = record[field.name] if record else self.env[field.comodel_name].browse()
            match = ref_type._find_by_primary(value) or current
            return ref_type._apply(match, value, inner_stack).id
        if field.type == "many2many":
            ids = [ref_type._apply(ref_type._find_by_primary(doc), doc, inner_stack).id for doc in value or []]
            return [Command.set(ids)]
        return self._one2many_commands(ref_type, field, value or [], record, inner_stack)

    def _one2many_commands(self, ref_type, field, documents, record, stack):
        """Commands that make the children of ``record`` match ``documents``: by primary values, else by position."""
        current = record[field.name] if record else self.env[field.comodel_name].browse()
        primaries = ref_type.line_ids.filtered("primary")
        commands = []
        matched = self.env[field.comodel_name].browse()
        for position, doc in enumerate(documents):
            child = self.env[field.comodel_name].browse()
            if primaries:
                domain = ref_type._primary_domain(doc)
                child = current.filtered_domain(domain)[:1] if domain else child
            elif position < len(current):
                child = current[position]
            vals = ref_type._document_to_vals(doc, child, stack)
            vals.pop(field.inverse_name, None)
            if child:
                matched |= child
                changed = ref_type._changed_vals(child, vals)
                if changed:
                    commands.append(Command.update(child.id, changed))
            else:
                commands.append(Command.create(vals))
        commands += [Command.delete(child.id) for child in current - matched]
        return commands

    @staticmethod
    def _changed_vals(record, vals):
        """The part of ``vals`` that would change ``record``."""
        changed = {}
        for fname, value in vals.items():
            field = record._fields[fname]
            if field.type == "many2one":
                if record[fname].id != (value or False):
                    changed[fname] = value
            elif field.type in ("one2many", "many2many"):
                commands = [c for c in value if not (c[0] == Command.SET and set(c[2]) == set(record[fname].ids))]
                if commands:
                    changed[fname] = commands
            else:
                new = field.convert_to_record(field.convert_to_cache(value, record), record)
                if new != record[fname]:
                    changed[fname] = value
        return changed

    # ------------------------------------------------------------------
    # Schema generation
    # ------------------------------------------------------------------
    def _generate_schema_dict(self, stack=()):
        """A JSON Schema describing this data type's documents, from its lines and the model's fields."""
        self.ensure_one()
        Model = self.env[self.model_name]
        properties, required = {}, []
        for line in self.line_ids.sorted(lambda line: (line.sequence, line.id)):
            field = Model._fields.get(line.value or "")
            if line.line_type == "field":
                selection = None
                if field.type == "selection":
                    selection = [key for key, _label in field._description_selection(self.env)]
                prop = schema_gen.field_schema(
                    field.type if field.type in SUPPORTED_TYPES | {"many2one", "one2many", "many2many"} else "char",
                    nullable=field.type != "boolean" and not line.primary,
                    selection_keys=selection,
                    description=field.string,
                )
            elif line.line_type == "model":
                if line.reference_id in stack or len(stack) >= MAX_DEPTH:
                    inner = {"type": "object"}
                else:
                    inner = line.reference_id._generate_schema_dict((*stack, self))
                    inner.pop("$schema", None)
                prop = schema_gen.nullable(inner) if line.cardinality == "2one" else schema_gen.array_of(inner)
            elif line.line_type == "reference":
                inner = {"type": "object",
                         "description": _("A reference: $ref (the receiver's id), primary values, or name")}
                prop = schema_gen.nullable(inner) if line.cardinality == "2one" else schema_gen.array_of(inner)
            elif line.line_type == "default":
                prop = {} if is_json_template(line.value or "") else {"type": "string"}
            else:
                prop = {}
            properties[line.name] = prop
            if line.primary:
                required.append(line.name)
        return schema_gen.document_schema(properties, required=required, title=self.name)

    def action_generate_schema(self):
        """Fill the schema from the lines, creating it when the data type has none."""
        self.ensure_one()
        text = json.dumps(self._generate_schema_dict(), indent=2)
        if self.schema_id:
            self.schema_id.schema = text
        else:
            slug = self.model_name.replace(".", "_")
            existing = self.library_id.schema_ids.mapped("slug")
            base, counter = slug, 2
            while slug in existing:
                slug, counter = f"{base}_{counter}", counter + 1
            self.schema_id = self.env["sync.schema"].create(
                {"library_id": self.library_id.id, "name": self.name, "slug": slug, "schema": text}
            )
        return {
            "type": "ir.actions.act_window",
            "res_model": "sync.schema",
            "res_id": self.schema_id.id,
            "views": [(False, "form")],
            "target": "current",
        }

    def action_preview(self):
        """Open the preview: pick a record and see its document, or why it fails."""
        self.ensure_one()
        record = self.env[self.model_name].search([], limit=1)
        return {
            "type": "ir.actions.act_window",
            "name": _("Preview of %(name)s", name=self.display_name),
            "res_model": "sync.preview",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_data_type_id": self.id,
                "default_record_ref": f"{self.model_name},{record.id}" if record else False,
            },
        }

    def action_view_lines(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Lines of %(name)s", name=self.display_name),
            "res_model": "sync.mapping.line",
            "views": [(False, "list"), (False, "form")],
            "domain": [("data_type_id", "=", self.id)],
            "context": {"default_data_type_id": self.id},
        }

    # ------------------------------------------------------------------
    # Export and import (see sync.library)
    # ------------------------------------------------------------------
    def _export_config(self):
        self.ensure_one()
        Library = self.env["sync.library"]
        return {
            "name": self.name,
            "model": self.model_name,
            "schema": self.schema_id.slug or None,
            **{key: self[key] for key in Library._DATA_TYPE_KEYS},
            "lines": [
                {**{key: line[key] for key in Library._LINE_KEYS}, "reference": line.reference_id.name or None}
                for line in self.line_ids.sorted(lambda line: (line.sequence, line.id))
            ],
            "conditions": [
                {key: condition[key] for key in Library._CONDITION_KEYS}
                for condition in self.condition_ids.sorted(lambda c: (c.sequence, c.id))
            ],
        }

    @api.model
    def _import_header(self, library, item, schemas):
        model = self.env["ir.model"]._get(item["model"])
        if not model:
            raise UserError(
                _("Data type %(name)s maps %(model)s, which is not installed here.", name=item["name"],
                  model=item["model"])
            )
        vals = {key: item[key] for key in self.env["sync.library"]._DATA_TYPE_KEYS if key in item}
        vals.update(model_id=model.id, schema_id=schemas[item["schema"]].id if item.get("schema") else False)
        data_type = self.search([("library_id", "=", library.id), ("name", "=", item["name"])], limit=1)
        if data_type:
            changed = {k: v for k, v in vals.items() if (data_type[k].id if k.endswith("_id") else data_type[k]) != v}
            if changed:
                data_type.write(changed)
            return data_type
        return self.create(dict(vals, library_id=library.id, name=item["name"]))

    def _import_lines(self, item, data_types):
        self.ensure_one()
        Library = self.env["sync.library"]
        for line in item.get("lines", []):
            if line.get("reference") and line["reference"] not in data_types:
                raise UserError(
                    _("Line %(prop)s of %(name)s refers to the data type %(ref)s, which the file does not hold.",
                      prop=line.get("name"), name=self.name, ref=line["reference"])
                )
        current = self._export_config()
        if current["lines"] != item.get("lines", []):
            self.line_ids.unlink()
            self.env["sync.mapping.line"].create([
                {
                    **{key: line.get(key) for key in Library._LINE_KEYS},
                    "data_type_id": self.id,
                    "reference_id": data_types[line["reference"]].id if line.get("reference") else False,
                }
                for line in item.get("lines", [])
            ])
        if current["conditions"] != item.get("conditions", []):
            self.condition_ids.unlink()
            self.env["sync.condition"].create([
                {**{key: c.get(key) for key in Library._CONDITION_KEYS}, "data_type_id": self.id}
                for c in item.get("conditions", [])
            ])
