import json

from odoo import _, models
from odoo.fields import Command

from odoo.addons.sync_base.lib.codec import CodecError
from odoo.addons.sync_base.lib.envelope import BINDING_REF

from .sync_data_type import MAX_DEPTH, SyncMappingError, SyncUnresolvedReference, _decode


class SyncDataType(models.Model):
    """Upsert: received documents applied to records, through the data type's lines."""

    _inherit = "sync.data.type"

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
