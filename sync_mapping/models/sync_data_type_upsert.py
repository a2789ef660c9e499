import json

from odoo import _, models
from odoo.fields import Command

from odoo.addons.sync_base.lib.codec import CodecError
from odoo.addons.sync_base.lib.envelope import BINDING_REF

from .sync_data_type import MAX_DEPTH, SyncMappingError, SyncUnresolvedReference, _decode

# the largest id PostgreSQL's integer column holds: a larger number in a document is no record, and must be
# answered as one, never with the database's out-of-range error
MAX_ID = 2**31 - 1
RELATIONAL = ("many2one", "one2many", "many2many")


class SyncDataType(models.Model):
    """Upsert: received documents applied to records, through the data type's lines.

    Two environments take part.  The configuration (this data type, its
    lines, its schema, the data types its lines reference, the bindings) is
    the suite's own and is read as superuser.  The records the documents
    touch (the data type's model and every model reached through its lines)
    are read, searched, created, written and deleted only through
    ``target_env``: the environment ``_upsert`` and
    ``_apply_inbound_deletion`` are called in, i.e. the applying user's
    (a system's inbound user, with its company), whose access rights and
    record rules therefore apply to every record a document names.
    """

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

        The current user (this recordset's environment) is the user who
        applies: its rights and record rules decide which records a document
        may find, reference, create or change.  It need not read the
        configuration: the suite reads that itself.
        """
        self.ensure_one()
        # The applying user travels as the environment this private method is called in, and from there as an
        # explicit argument (target_env), never as a context key: a context comes with any RPC call, and a key
        # naming the user would let a caller choose whose rights apply.  Private methods cannot be called over
        # RPC, so the environment is the one the suite's own code chose (with_user(system.user_id)).
        target_env = self.env
        config = self.sudo()
        records = target_env[config.model_name].browse()
        for index, document in enumerate(documents):
            remote_ref = remote_refs[index] if remote_refs else None
            records |= config._upsert_one(document, system, remote_ref, target_env)
        return records

    def _upsert_one(self, document, system, remote_ref, target_env):
        errors = self.schema_id._validation_errors(document) if self.schema_id else []
        if errors:
            raise SyncMappingError(
                _("The document does not validate against %(schema)s: %(details)s",
                  schema=self.schema_id.display_name,
                  details="; ".join("property " + str(p) + ": " + str(m) for p, m in errors))
            )
        Model = target_env[self.model_name]
        remote_model, ref = (remote_ref if isinstance(remote_ref, (tuple, list)) else (self.model_name, remote_ref))
        record = Model.browse()
        if system and ref is not None:
            binding = self.env["sync.binding"].sudo()._find_local(system, remote_model, ref)
            if binding and binding.model == self.model_name:
                record = self._bound_record(Model, binding, ref)
        if not record:
            record = self._find_by_primary(document, target_env)
        record = self._apply(record, document, (self,), target_env)
        if system and ref is not None:
            self.env["sync.binding"].sudo()._bind(system, record, remote_model, ref)
        return record

    def _bound_record(self, Model, binding, ref):
        """The record ``binding`` names, as ``Model``'s user may read it; empty when it is gone.

        A bound record that is still there but that the user may not read
        (moved to another company, or rights taken away) is neither written
        (the user may not) nor replaced by a new record bound instead (a
        duplicate nobody asked for): the document waits, answered as a
        reference not resolved yet, until a manager gives the user access
        or moves the record back.  Telling it from a deleted record says
        nothing the caller does not know: the binding is its own record's.
        """
        record = self._readable(Model, [binding.res_id])
        if not record and Model.sudo().with_context(active_test=False).browse(binding.res_id).exists():
            raise SyncUnresolvedReference(
                _("%(data_type)s: the record bound to %(remote)s is not one the inbound user may read here "
                  "(another company, or its access rights): nothing is applied, so that it is neither overwritten "
                  "nor duplicated, until a manager gives the user access to it.",
                  data_type=self.display_name, remote=ref)
            )
        return record

    @staticmethod
    def _readable(Model, ids):
        """The records of ``Model`` among ``ids`` that its environment's user may read, archived ones included.

        A search, not ``browse().exists()``: record rules apply, so that a
        record the user may not read is not found, exactly as one that does
        not exist.  Anything but a positive integer a record id can be is no
        record either, never a database error.
        """
        valid = [i for i in ids if isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID]
        if not valid:
            return Model.browse()
        return Model.with_context(active_test=False).search([("id", "in", valid)])

    def _primary_domain(self, document, target_env):
        domain = []
        for line in self.line_ids.filtered("primary"):
            if line.name not in document:
                return []
            field = target_env[self.model_name]._fields[line.value]
            domain.append((line.value, "=", self._decode(line, field, document[line.name], target_env)))
        return domain

    def _find_by_primary(self, document, target_env):
        domain = self._primary_domain(document, target_env)
        Model = target_env[self.model_name]
        if not domain:
            return Model.browse()
        found = Model.with_context(active_test=False).search(domain, limit=2)
        if len(found) > 1:
            raise SyncMappingError(
                _("%(data_type)s: the primary properties %(domain)s match several records of %(model)s.",
                  data_type=self.display_name, domain=domain, model=self.model_name)
            )
        return found

    def _decode(self, line, field, value, target_env):
        """The field value of the document's ``value``; ids of a relational field only of records the user may
        read (see :meth:`_unresolved`)."""
        try:
            decoded = _decode(field, value)
        except (CodecError, TypeError, ValueError) as exc:
            raise SyncMappingError(
                _("%(data_type)s, property %(prop)s: %(error)s", data_type=self.display_name, prop=line.name,
                  error=exc)
            ) from None
        if field.type in RELATIONAL and decoded:
            # a field line on a relational field carries ids: a reference by id like any other
            ids = [decoded] if field.type == "many2one" else list(decoded[0][2])
            if len(self._readable(target_env[field.comodel_name], set(ids))) != len(set(ids)):
                raise self._unresolved(line, value, field.comodel_name)
        return decoded

    def _unresolved(self, line, value, model):
        """The error for a reference to no record the applying user may read: one answer, one message, whether
        the record does not exist or the user may not read it, so that a caller cannot probe which ids exist."""
        # not here yet: the record it names may be on its way (another message, another system)
        return SyncUnresolvedReference(
            _("%(data_type)s, property %(prop)s: cannot resolve the reference %(value)s to one %(model)s: "
              "none here (yet) that the applying user may read.",
              data_type=self.display_name, prop=line.name, value=json.dumps(value), model=model)
        )

    def _apply(self, record, document, stack, target_env):
        """Create or update ``record`` (may be empty) from ``document``; return it."""
        vals = self._document_to_vals(document, record, stack, target_env)
        if record:
            changed = self._changed_vals(record, vals)
            if changed:
                record.write(changed)
            return record
        return target_env[self.model_name].create(vals)

    def _document_to_vals(self, document, record, stack, target_env):
        if len(stack) > MAX_DEPTH:
            raise SyncMappingError(
                _("%(data_type)s embeds itself deeper than %(max)s levels: %(path)s",
                  data_type=stack[0].display_name, max=MAX_DEPTH, path=" \u2192 ".join(t.name for t in stack))
            )
        Model = target_env[self.model_name]
        vals = {}
        for line in self.line_ids.sorted(lambda line: (line.sequence, line.id)):
            if line.name not in document or line.line_type in ("default", "code"):
                continue
            field = Model._fields[line.value]
            if field.compute and not field.inverse and field.readonly or field.name == "id":
                continue
            value = document[line.name]
            if line.line_type == "field":
                vals[line.value] = self._decode(line, field, value, target_env)
            elif line.line_type == "reference":
                vals[line.value] = self._resolve_references(line, field, value, target_env)
            else:
                vals[line.value] = self._embedded_vals(line, field, value, record, stack, target_env)
        return vals

    def _resolve_one(self, line, comodel, ref):
        """The id of the one record of ``comodel`` (in the applying user's environment) that ``ref`` names.

        Every way of naming it (``$ref``, the legacy ``ref`` id, primary
        values, ``name``) searches as that user: a record it may not read is
        not found, and answered exactly as a record that does not exist.
        """
        if not isinstance(ref, dict):
            raise SyncMappingError(
                _("%(data_type)s, property %(prop)s: a reference must be an object, got %(value)r.",
                  data_type=self.display_name, prop=line.name, value=ref)
            )
        target_env = comodel.env
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
                found = reference_type._find_by_primary(ref, target_env)
            except SyncUnresolvedReference:
                raise
            except SyncMappingError:
                found = comodel.browse()
        elif set(ref) == {"ref"}:
            # {"ref": <our id>}: a binding as senders before "$ref" wrote it, where no property is called ref
            found = self._browse_ref(comodel, ref["ref"])
        elif "name" in ref and len(ref) == 1:
            found = comodel.with_context(active_test=False).search([(comodel._rec_name or "id", "=", ref["name"])],
                                                                    limit=2)
        elif reference_type:
            found = reference_type._find_by_primary(ref, target_env)
        if not found:
            raise self._unresolved(line, ref, comodel._name)
        if len(found) > 1:
            raise SyncMappingError(
                _("%(data_type)s, property %(prop)s: cannot resolve the reference %(value)s to one %(model)s.",
                  data_type=self.display_name, prop=line.name, value=json.dumps(ref), model=comodel._name)
            )
        return found.id

    @classmethod
    def _browse_ref(cls, comodel, value):
        """The record of ``comodel`` whose id is the binding reference ``value``, if its user may read it."""
        try:
            record_id = int(value)
        except (TypeError, ValueError, OverflowError):
            return comodel.browse()
        return cls._readable(comodel, [record_id]) if not isinstance(value, bool) else comodel.browse()

    def _resolve_references(self, line, field, value, target_env):
        comodel = target_env[field.comodel_name]
        if field.type == "many2one":
            return self._resolve_one(line, comodel, value) if value else False
        return [Command.set([self._resolve_one(line, comodel, ref) for ref in value or []])]

    def _embedded_vals(self, line, field, value, record, stack, target_env):
        ref_type = line.reference_id.with_env(self.env)
        inner_stack = (*stack, ref_type)
        Comodel = target_env[field.comodel_name]
        if field.type == "many2one":
            if not value:
                return False
            # the related record now, if the user may read it: one it may not is neither read nor written
            current = self._readable(Comodel, record[field.name].ids) if record else Comodel.browse()
            match = ref_type._find_by_primary(value, target_env) or current
            return ref_type._apply(match, value, inner_stack, target_env).id
        if field.type == "many2many":
            ids = [ref_type._apply(ref_type._find_by_primary(doc, target_env), doc, inner_stack, target_env).id
                   for doc in value or []]
            return [Command.set(ids)]
        return self._one2many_commands(ref_type, field, value or [], record, inner_stack, target_env)

    def _one2many_commands(self, ref_type, field, documents, record, stack, target_env):
        """Commands that make the children of ``record`` match ``documents``: by primary values, else by position.

        Only the children the user may read take part: one it may not is
        neither matched, nor changed, nor removed.
        """
        Comodel = target_env[field.comodel_name]
        current = self._readable(Comodel, record[field.name].ids) if record else Comodel.browse()
        primaries = ref_type.line_ids.filtered("primary")
        commands = []
        matched = Comodel.browse()
        for position, doc in enumerate(documents):
            child = Comodel.browse()
            if primaries:
                domain = ref_type._primary_domain(doc, target_env)
                child = current.filtered_domain(domain)[:1] if domain else child
            elif position < len(current):
                child = current[position]
            vals = ref_type._document_to_vals(doc, child, stack, target_env)
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
