import json

import jsonschema

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.sync_base import compat

from ..lib.fastschema import DEFAULT_VALIDATOR, compile_validator, iter_errors
from .sync_library import check_slug

# Validators are compiled once per schema text and process, since compiling
# one costs far more than validating a document.
_VALIDATORS = {}
_VALIDATORS_MAX = 256


# schema texts that passed the meta-schema check
_CHECKED = set()


def get_validator(schema_text):
    """``(jsonschema validator, fast predicate or None)`` for ``schema_text``, compiled once (cached)."""
    compiled = _VALIDATORS.get(schema_text)
    if compiled is None:
        compiled = compile_validator(json.loads(schema_text))
        if len(_VALIDATORS) >= _VALIDATORS_MAX:
            _VALIDATORS.clear()
        _VALIDATORS[schema_text] = compiled
    return compiled


def error_path(error):
    """A readable location of a jsonschema error: ``lines[2].name`` or ``(document)``."""
    text = ""
    for part in error.absolute_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


class SyncSchema(models.Model):
    """A JSON Schema document that documents of a data type must validate against."""

    _name = "sync.schema"
    _description = "Synchronization Schema"
    _order = "library_id, name, id"

    library_id = fields.Many2one("sync.library", required=True, ondelete="cascade", index=True)
    name = fields.Char(required=True)
    slug = fields.Char(required=True, help="Lowercase letters, digits and '_'; the second part of message types.")
    schema = fields.Text(
        default='{\n  "$schema": "https://json-schema.org/draft/2020-12/schema",\n  "type": "object"\n}',
        required=True,
        help="A JSON Schema document.",
    )
    data_type_ids = fields.One2many("sync.data.type", "schema_id", string="Data Types")
    data_type_count = fields.Integer(compute="_compute_data_type_count")

    compat.declare_constraints(locals(), [
        ("slug_library_unique", "unique(library_id, slug)", "The slug of a schema must be unique in its library."),
    ])

    @api.depends("data_type_ids")
    def _compute_data_type_count(self):
        for schema in self:
            schema.data_type_count = len(schema.data_type_ids)

    @api.depends("library_id.slug", "slug")
    def _compute_display_name(self):
        for schema in self:
            schema.display_name = f"{schema.library_id.slug}.{schema.slug}" if schema.slug else schema.name

    @api.constrains("slug")
    def _check_slug(self):
        for schema in self:
            check_slug(self.env, schema.slug, _("schema %(name)s", name=schema.name))

    @api.constrains("schema")
    def _check_schema(self):
        for schema in self:
            schema._parse_schema()

    def _parse_schema(self):
        """The schema as a dict; raise a ValidationError saying where it is wrong."""
        self.ensure_one()
        try:
            document = json.loads(self.schema or "")
        except ValueError as exc:
            raise ValidationError(
                _("The schema %(name)s is not valid JSON: %(error)s", name=self.name, error=exc)
            ) from None
        if not isinstance(document, dict):
            raise ValidationError(_("The schema %(name)s must be a JSON object.", name=self.name))
        cls = jsonschema.validators.validator_for(document, default=DEFAULT_VALIDATOR)
        try:
            cls.check_schema(document)
        except jsonschema.SchemaError as exc:
            where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
            raise ValidationError(
                _("The schema %(name)s is not a valid JSON Schema at %(where)s: %(error)s",
                  name=self.name, where=where, error=exc.message)
            ) from None
        return document

    def _ensure_valid(self):
        """Raise like :meth:`_parse_schema` when the schema is broken; checked once per schema text (cached),
        as serialization asks it for every batch."""
        self.ensure_one()
        if self.schema not in _CHECKED:
            self._parse_schema()
            if len(_CHECKED) >= _VALIDATORS_MAX:
                _CHECKED.clear()
            _CHECKED.add(self.schema)

    def _validation_errors(self, document):
        """The validation errors of ``document``, as ``[(path, message)]`` (empty when valid)."""
        return self._validator()(document)

    def _validator(self):
        """A function of a document that returns its validation errors as :meth:`_validation_errors` does: the
        schema's validator looked up once, for the documents of a whole batch."""
        self.ensure_one()
        validator, fast = get_validator(self.schema)

        def errors_of(document):
            errors = sorted(iter_errors(validator, fast, document), key=lambda e: list(map(str, e.absolute_path)))
            return [(error_path(error), error.message) for error in errors]

        return errors_of

    def action_view_data_types(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("sync_mapping.sync_data_type_action")
        action["domain"] = [("schema_id", "=", self.id)]
        action["context"] = {"default_schema_id": self.id, "default_library_id": self.library_id.id}
        return action
