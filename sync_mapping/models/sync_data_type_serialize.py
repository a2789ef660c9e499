import json

from odoo import _, models
from odoo.tools import split_every
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import safe_eval

from odoo.addons.sync_base.lib.codec import CodecError, encode_value
from odoo.addons.sync_base.lib.envelope import BINDING_REF

from ..lib.template import TemplateError, render
from .sync_data_type import BATCH_SIZE, CACHE_SAFE_TYPES, MAX_DEPTH, SyncMappingError, _encode


class SyncDataType(models.Model):
    """Serialization: records to JSON documents, through the data type's lines."""

    _inherit = "sync.data.type"

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
