import json
import logging

import psycopg2
from psycopg2 import errors as pg_errors

from odoo import _, models
from odoo.tools import split_every
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import safe_eval

from odoo.addons.sync_base import compat
from odoo.addons.sync_base.lib.codec import CodecError, encode_value
from odoo.addons.sync_base.lib.envelope import BINDING_REF

from ..lib.code_check import describe_write
from ..lib.template import TemplateError, paths, render
from .sync_data_type import BATCH_SIZE, CACHE_SAFE_TYPES, MAX_DEPTH, SyncMappingError, _encode

_logger = logging.getLogger(__name__)

#: what the ORM reads for a NULL column of these types
NUMERIC_ZERO = {"integer": 0, "float": 0.0}


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
        hidden = self._owner_unreadable(records)
        for record_id in hidden:
            record = records.browse(record_id)
            results.append((record, None, self._hidden_error(record)))
        # one validator for every document of the call: each is checked against the schema as it was here
        errors_of = self.schema_id._validator() if self.schema_id else None
        for ids in split_every(BATCH_SIZE, [record_id for record_id in records.ids if record_id not in hidden]):
            batch = records.browse(ids)
            for record, (document, error) in zip(batch, self._serialize_batch(batch, system, (self,)), strict=True):
                if error is None:
                    error = self._validate_document(record, document, errors_of)
                results.append((record, None if error else document, error))
        return results

    def _owner_unreadable(self, records):
        """The ids of ``records`` that the data type's owner (``owner_id``) may not read.

        Documents are built as the superuser, and queued envelopes are read by
        every synchronization user: what a data type sends is limited to what
        the last person who configured it may read (record rules and each
        model's own access checks, as ``mail.message`` has).  A data type of
        the superuser's (installed by a module) is not limited.
        """
        hidden = set()
        for user in self._bounding_users() if records else ():
            env = self.env(user=user.id, su=False, context={"active_test": False})
            hidden |= set(records.ids) - set(records.with_env(env)._filtered_access("read").ids)
        return hidden

    def _bounding_users(self):
        """The users whose rights bound what this data type sends: its owner, and a preview's viewer (a context
        key can only add a bound, never lift one); none for the superuser."""
        users = self.sudo().owner_id
        viewer = self.env.context.get("sync_preview_uid")
        if isinstance(viewer, int):
            users |= self.env["res.users"].sudo().browse(viewer).exists()
        return users.filtered(lambda user: not user._is_superuser())

    def _hidden_error(self, hidden, line=None, record=None):
        """The error of a record (or, with ``line``, of ``record`` whose line reaches ``hidden``) that the owner
        may not read: it names the hidden record by model and id only, never by anything read from it."""
        message = _("%(user)s, whose rights bound what %(data_type)s sends, may not read %(hidden)s.",
                    user=self.sudo().owner_id.name, data_type=self.display_name,
                    hidden=hidden._name + "," + str(hidden.id))
        if line is None:
            return SyncMappingError(message)
        return SyncMappingError(_("%(record)s, property %(prop)s: %(error)s",
                                  record=record._name + "," + str(record.id), prop=line.name, error=message))

    def _validate_document(self, record, document, errors_of):
        """The :class:`SyncMappingError` of ``document`` (built from ``record``) that does not validate against
        the data type's schema, or ``None``; ``errors_of``: the schema's :meth:`~.sync_schema._validator`,
        ``None`` when the data type has no schema."""
        if errors_of is None:
            return SyncMappingError(
                _("%(data_type)s has no schema: generate one, or choose one.", data_type=self.display_name)
            )
        errors = errors_of(document)
        if not errors:
            return None
        details = "; ".join(f"property {path}: {message}" for path, message in errors)
        return SyncMappingError(
            _("%(record)s (%(name)s) does not validate against %(schema)s: %(details)s",
              record=record._name + "," + str(record.id), name=record.display_name,
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
              record=record._name + "," + str(record.id), name=record.display_name, prop=line.name,
              data_type=self.display_name, error=error)
        )

    def _serialize_line(self, line, records, system, stack):
        method = getattr(self, f"_serialize_{line.line_type}_line")
        return method(line, records, system, stack)

    def _serialize_field_line(self, line, records, system, stack):
        field = records._fields[line.value]
        if field.relational and stack[0]._bounding_users():
            # ids only, but an id tells that a record exists: only those the owner may read
            hidden = stack[0]._owner_unreadable(records.mapped(line.value))
            if hidden:
                values = self._serialize_field_values(line, field, records)
                for index, record in enumerate(records):
                    unreadable = record[line.value].filtered(lambda r: r.id in hidden)[:1]
                    if unreadable:
                        values[index] = stack[0]._hidden_error(unreadable, line, record)
                return values
        return self._serialize_field_values(line, field, records)

    def _serialize_field_values(self, line, field, records):
        if field.type in CACHE_SAFE_TYPES and field.store:
            # The batch was fetched at once: read the values from the cache
            # rather than through a descriptor call per record and field.
            cached = compat.cached_values(records, field)
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
        if field.type in NUMERIC_ZERO:
            # the cache holds the column's NULL as None; the record reads it as 0, and so does the document
            # (a receiver that stores the document's value reads 0 back: a comparison must see the same)
            zero = NUMERIC_ZERO[field.type]
            cached = [zero if value is None else value for value in cached]
        values = []
        for record, value in zip(records, cached, strict=True):
            try:
                values.append(encode_value(field.type, False if value is None else value))
            except CodecError as exc:
                values.append(self._line_error(line, record, exc))
        return values

    def _serialize_model_line(self, line, records, system, stack):
        related = records.mapped(line.value)
        hidden = stack[0]._owner_unreadable(related)
        embedded = {record_id: (None, True) for record_id in hidden}
        related = related.browse([record_id for record_id in related.ids if record_id not in hidden])
        if related:
            pairs = line.reference_id._serialize_batch(related, system, (*stack, line.reference_id))
            embedded.update(zip(related.ids, pairs, strict=True))
        values = []
        for record in records:
            docs = [embedded[r.id] for r in record[line.value]]
            unreadable = next((r for r in record[line.value] if r.id in hidden), None)
            if unreadable:
                values.append(stack[0]._hidden_error(unreadable, line, record))
                continue
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
        # a receiver answering a comparison names its records as the sender's bindings do: by its own ids
        local_ids = self.env.context.get("sync_compare_local_refs")
        refs = {}
        for record in related:
            if record.id in bindings:
                refs[record.id] = {BINDING_REF: str(record.id) if local_ids else bindings[record.id].remote_ref}
            elif record.id in primaries:
                refs[record.id] = primaries[record.id]
            else:
                refs[record.id] = {"name": record.display_name}
        return refs

    def _serialize_reference_line(self, line, records, system, stack):
        related = records.mapped(line.value)
        hidden = stack[0]._owner_unreadable(related)
        refs = self._reference_values(line, related, system)
        values = []
        for record in records:
            unreadable = next((r for r in record[line.value] if r.id in hidden), None)
            if unreadable:
                values.append(stack[0]._hidden_error(unreadable, line, record))
            elif line.cardinality == "2one":
                values.append(refs.get(record[line.value].id))
            else:
                values.append([refs[r.id] for r in record[line.value]])
        return values

    def _serialize_default_line(self, line, records, system, stack):
        hidden = self._template_hidden(line, records, stack[0])
        values = []
        for record in records:
            if record.id in hidden:
                values.append(stack[0]._hidden_error(hidden[record.id], line, record))
                continue
            try:
                values.append(render(line.value or "", lambda path, r=record: self._resolve_path(r, path)))
            except (TemplateError, CodecError) as exc:
                values.append(self._line_error(line, record, exc))
        return values

    @staticmethod
    def _template_hidden(line, records, owner_type):
        """``{record id: a related record}`` for the records whose template reaches a record that the owner of
        ``owner_type`` may not read, through any relational step of any of its paths."""
        hidden = {}
        if not owner_type._bounding_users():
            return hidden  # the superuser's data type: nothing to walk
        for chain in paths(line.value or ""):
            for depth in range(1, len(chain) + 1):
                prefix = ".".join(chain[:depth])
                try:
                    reached = records.mapped(prefix)
                except (KeyError, ValueError):
                    break
                if not isinstance(reached, models.BaseModel):
                    break
                unreadable = owner_type._owner_unreadable(reached)
                if not unreadable:
                    continue
                for record in records:
                    if record.id not in hidden:
                        found = record.mapped(prefix).filtered(lambda r, ids=unreadable: r.id in ids)[:1]
                        if found:
                            hidden[record.id] = found
        return hidden

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
        """The values of a code line for a batch, each evaluated in a transaction that refuses every write.

        The static check (``sync.mapping.line._check_code_line``) refuses what
        it sees; whatever a line evaluates anyway (a method that writes deep
        down, a line saved before the check existed) must not change data.
        Pending changes are flushed first; then the batch is evaluated in a
        savepoint made read-only (``SET LOCAL transaction_read_only``), the
        ORM's deferred writes flushed after each record, and the savepoint
        always rolled back, which makes the transaction writable again.  A
        record whose evaluation tries to write (an UPDATE, an INSERT, a
        sequence's nextval, work left for the commit...) fails with a message
        naming the statement and table, its traces are dropped from the
        caches, and the rest of the batch goes on in a new savepoint.
        """
        records.env.flush_all()
        values = []
        while len(values) < len(records):
            values.extend(self._evaluate_code_read_only(line, records[len(values):], system))
        return values

    def _evaluate_code_read_only(self, line, records, system):
        """Evaluate ``line`` on ``records`` in one read-only savepoint, up to the first record that writes.

        Returns the values (or errors) of the records evaluated; the caller
        starts again after them.
        """
        env = records.env
        cr = env.cr
        values = []
        refused = None
        with cr.savepoint(flush=False) as savepoint:
            cr.execute("SET LOCAL transaction_read_only = on")
            try:
                for record in records:
                    hooks = _hooks_state(cr)
                    value, refusal = self._evaluate_code(line, record, system)
                    if _drop_new_hooks(cr, hooks) and not refusal:
                        refusal = ("hooks", None)
                    if refusal:
                        refused = (record, refusal)
                        break
                    values.append(value)
            finally:
                # always rolled back: nothing was written, and only a rollback ends the read-only mode
                savepoint.rollback()
        if refused:
            # the caches may hold what was not written: forget them (the batch was flushed before the
            # evaluation, so nothing legitimate is pending); the message is built once the transaction is sound
            env.clear()
            record, (kind, statement) = refused
            if kind == "write":
                message = _("the expression tried to change data (%(statement)s): code lines only read their record",
                            statement=statement)
            elif kind == "hooks":
                message = _("the expression registered work for the commit: code lines only read their record")
            else:
                message = _("the expression failed in the database or left changes: code lines only read their "
                            "record")
            values.append(self._line_error(line, record, message))
        return values

    def _evaluate_code(self, line, record, system):
        """``(value or error, None)``, or ``(None, (kind, statement))`` when the evaluation tried to write
        (``"write"``) or broke the transaction (``"database"``): the savepoint must then be rolled back."""
        error = None
        try:
            value = safe_eval(
                line.value or "None",
                {"record": record, "obj": record, "datetime": safe_datetime, "system": system},
            )
        except Exception as exc:  # noqa: BLE001 - a bad line fails its record only
            error = exc
        database_error = _database_error(error)
        if database_error is None:
            try:
                # deferred writes of the ORM reach the database now, while it refuses them
                record.env.flush_all()
            except Exception as exc:  # noqa: BLE001 - whatever the flush raises, the evaluation left changes
                error = exc
                database_error = _database_error(exc)
        if error is not None:
            # no translation nor query here: the transaction may be aborted until the savepoint is rolled back
            if isinstance(database_error, pg_errors.ReadOnlySqlTransaction):
                return None, ("write", describe_write(getattr(database_error.cursor, "query", None),
                                                      str(database_error)))
            if database_error is not None or record.env.cache.get_dirty_fields():
                return None, ("database", None)
            # the error's text may hold what the expression read as the suite (int(record.parent_id.email)): the
            # message, read by every synchronization user, names its kind only; the log keeps the rest
            _logger.info("Code line %r of %s failed on %s,%s: %s", line.name, self.display_name, record._name,
                         record.id, error)
            # safe_eval raises a ValueError "<error> while evaluating": name the error it wraps
            wrapped = error.__cause__ or error.__context__ if isinstance(error, ValueError) else None
            kind = type(wrapped or error).__name__
            return self._line_error(line, record, _("the expression raised %(kind)s (its text is in the server "
                                                    "log)", kind=kind)), None
        try:
            if isinstance(value, models.BaseModel):
                raise TypeError(_("the expression returns records; return their ids or names instead"))
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            return self._line_error(line, record, f"{type(exc).__name__}: {exc}"), None
        return value, None


def _database_error(exc):
    """The database error that ``exc`` is, or was raised while handling (safe_eval wraps errors), or None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, psycopg2.Error):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _hooks_state(cr):
    """How many functions wait for the commit, and under which data keys: to see what an evaluation adds."""
    return [(callbacks, len(callbacks._funcs), set(callbacks.data)) for callbacks in (cr.precommit, cr.postcommit)]


def _drop_new_hooks(cr, state):
    """Remove the commit hooks added since ``state``; return whether there were any."""
    added = False
    for callbacks, count, keys in state:
        while len(callbacks._funcs) > count:
            callbacks._funcs.pop()
            added = True
        for key in set(callbacks.data) - keys:
            del callbacks.data[key]
            added = True
    return added
