import json
import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tools.safe_eval import safe_eval

from odoo.addons.sync_base import compat
from odoo.addons.sync_base.lib.codec import SUPPORTED_TYPES, decode_value, encode_value

from ..lib import schema_gen
from ..lib.domain_check import DomainCheckError, check_domain, plain_context
from ..lib.template import is_json_template

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

    compat.declare_constraints(locals(), [
        ("name_library_unique", "unique(library_id, name)", "The name of a data type must be unique in its library."),
        ("interval_positive", "check(interval_minutes > 0)", "The interval must be at least one minute."),
    ])

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
        """Refuse a domain that is not written with plain values, that searches a field path the person saving it
        may not read, or that Odoo cannot search with.

        Documents and queues search with this domain as the superuser, so it
        may only name what its author could read (as mapping lines).  The
        messages name the leaf, its field path and where it is in the source,
        never the error of the ORM or of the database: they would hold the
        evaluated value, which is what an attacker would want to read.
        """
        Line = self.env["sync.mapping.line"]
        for data_type in self:
            domain = data_type._get_domain()  # the static check, then the evaluation with plain values
            leaves = check_domain(data_type.domain)
            for leaf in leaves:
                error = leaf.path and Line._path_access_error(data_type.model_name, leaf.path.split("."))
                # Odoo logs an error and drops a leaf on a field that cannot be searched: refuse it here instead
                model = self.env[data_type.model_name]
                for segment in leaf.path.split(".") if leaf.path and not error else ():
                    field = model._fields[segment]  # it exists: _path_access_error said so
                    if not field._description_searchable:
                        error = _("%(field)s of %(model)s cannot be searched (it is not stored).", field=segment,
                                  model=model._name)
                        break
                    if field.relational:
                        model = self.env[field.comodel_name]
                if error:
                    raise ValidationError(
                        _("The domain of %(name)s is invalid: leaf %(number)s (%(path)s, at %(where)s): %(error)s",
                          name=data_type.display_name, number=leaf.number, path=leaf.path, where=leaf.where,
                          error=error)
                    )
            own = domain[len(data_type.condition_ids):]  # _get_domain puts the conditions first
            # whether Odoo can search with it, not what it finds: the model's and the paths' readability are checked
            # above and by _check_lines_access, which say why; the saver's own search would fail on a model he may
            # not read with a message about the domain
            Model = self.env[data_type.model_name].sudo()
            # the savepoint flushes: pending recomputations run their own constraints (a line that the new model
            # makes unreadable), whose errors must reach the user as they are, not as "the domain is invalid"
            self.env.flush_all()
            try:
                with self.env.cr.savepoint():
                    Model.search_count(domain, limit=1)
                continue
            except Exception:  # any error of the ORM means a bad domain; its text is not shown, only logged
                _logger.debug("The domain of %s is refused by the ORM.", data_type.display_name, exc_info=True)
            # name the first top-level leaf that Odoo cannot search with on its own
            for leaf in leaves:
                if leaf.term >= len(own) or not isinstance(own[leaf.term], (list, tuple)):
                    continue
                try:
                    with self.env.cr.savepoint():
                        Model.search_count([own[leaf.term]], limit=1)
                except Exception:  # noqa: BLE001 - as above
                    raise ValidationError(
                        _("The domain of %(name)s is invalid: Odoo cannot search with leaf %(number)s (%(path)s, at "
                          "%(where)s); check its operator and the type of its value.",
                          name=data_type.display_name, number=leaf.number,
                          path=leaf.path or _("always true or false"), where=leaf.where)
                    ) from None
            raise ValidationError(
                _("The domain of %(name)s is invalid: Odoo cannot search with it (with its conditions); check the "
                  "conditions and the operators of the domain.", name=data_type.display_name)
            )

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
        """The data type's conditions and domain, as one Odoo domain.

        The domain is checked (:func:`..lib.domain_check.check_domain`: plain
        values and date helpers only) and evaluated with
        :func:`..lib.domain_check.plain_context`: the ids of the current user
        and companies and the current date and time, never a record or an
        environment.  A domain saved before the check existed is refused here
        too, with the same message.
        """
        self.ensure_one()
        try:
            check_domain(self.domain)
        except DomainCheckError as exc:  # the message names a part of the source, never a value
            raise ValidationError(
                _("The domain of %(name)s is invalid: %(error)s", name=self.display_name, error=exc)
            ) from None
        context = plain_context(self.env.uid, self.env.company.id, self.env.companies.ids, fields.Datetime.now())
        try:
            domain = safe_eval(self.domain or "[]", context)
        except Exception:  # noqa: BLE001 - its text would hold evaluated values
            raise ValidationError(
                _("The domain of %(name)s cannot be evaluated: a date helper got an argument it cannot take (a date "
                  "out of range, a wrong type).", name=self.display_name)
            ) from None
        return [condition._to_leaf() for condition in self.condition_ids] + list(domain)

    def _filter_matching(self, records):
        """The records that pass the conditions and the domain, as they are now."""
        self.ensure_one()
        if not records:
            return records
        domain = [("id", "in", records.ids)] + self._get_domain()
        matching = set(records.with_context(active_test=False).search(domain).ids)
        return records.browse([record_id for record_id in records.ids if record_id in matching])

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
        """Open the preview on the first record the data type selects (its conditions and domain), or say none does."""
        self.ensure_one()
        record, notice = self._preview_record()
        return {
            "type": "ir.actions.act_window",
            "name": _("Preview of %(name)s", name=self.display_name),
            "res_model": "sync.preview",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_data_type_id": self.id,
                "default_record_ref": f"{self.model_name},{record.id}" if record else False,
                "default_notice": notice,
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
            if "model_id" in changed:
                # the lines and conditions name fields of the old model: the file's own replace them (see
                # _import_lines), and checking the old ones against the new model would refuse the import
                data_type.line_ids.unlink()
                data_type.condition_ids.unlink()
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
