from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

from ..lib.code_check import CodeCheckError, check_expression
from ..lib.naming import suggest_property_name
from ..lib.template import TemplateError, parse, paths

RELATIONAL = ("many2one", "one2many", "many2many")
# fields restricted to these groups hold credentials (the suite's own, Odoo's): documents are serialized as the
# superuser and read by synchronization users, so no mapping may carry them out
SECRET_GROUPS = frozenset({"base.group_system", "base.group_erp_manager", "sync_base.group_sync_manager"})


def is_secret(field):
    """Whether ``field`` is restricted to the groups that hold credentials."""
    groups = {group.strip().lstrip("!") for group in (field.groups or "").split(",")}
    return bool(groups & SECRET_GROUPS)


class SyncMappingLine(models.Model):
    """One property of a data type's documents and where its value comes from."""

    _name = "sync.mapping.line"
    _description = "Synchronization Mapping Line"
    _order = "data_type_id, sequence, id"

    data_type_id = fields.Many2one("sync.data.type", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    model_name = fields.Char(related="data_type_id.model_name")
    name = fields.Char(string="Property", required=True, help="The property of the JSON document.")
    line_type = fields.Selection(
        [
            ("field", "Field"),
            ("model", "Model"),
            ("reference", "Reference"),
            ("default", "Default (template)"),
            ("code", "Python Code"),
        ],
        string="Type",
        required=True,
        default="field",
        help="Field: a field of the model. Model: the related record(s) serialized fully through another "
        "data type. Reference: the related record(s) as a reference only. Default: a template such as "
        "'{partner_id.country_id.code}'. Python Code: an expression evaluated with 'record' bound.",
    )
    value = fields.Char(
        help="Field: the field's technical name. Model and Reference: the relational field. "
        "Default: the template. Python Code: the expression."
    )
    reference_id = fields.Many2one(
        "sync.data.type",
        string="Data Type of Related Records",
        ondelete="restrict",
        help="Model lines: the data type that serializes the related records. Reference lines: the data "
        "type whose primary properties identify them.",
    )
    cardinality = fields.Selection(
        [("2one", "To one"), ("2many", "To many")],
        compute="_compute_cardinality",
        store=True,
        readonly=False,
    )
    primary = fields.Boolean(help="These properties identify a record when a document is received.")

    @api.depends("line_type", "value", "data_type_id.model_name")
    def _compute_cardinality(self):
        for line in self:
            field = line._model_field() if line.line_type in ("model", "reference") else None
            if field is not None and field.type in RELATIONAL:
                line.cardinality = "2one" if field.type == "many2one" else "2many"
            elif line.line_type not in ("model", "reference"):
                line.cardinality = False

    @api.onchange("value", "line_type")
    def _onchange_suggest_name(self):
        if self.name or not self.value or self.line_type not in ("field", "model", "reference"):
            return
        try:
            self.name = suggest_property_name(self.value, self.cardinality or "")
        except ValueError:
            return

    def _model_field(self):
        model = self.env.get(self.data_type_id.model_name or "")
        if model is None or not self.value:
            return None
        return model._fields.get(self.value)

    # ------------------------------------------------------------------
    # What the person saving may read
    # ------------------------------------------------------------------
    @api.model
    def _path_access_error(self, model_name, chain):
        """Why the current user may not read the field path ``chain`` of ``model_name``, or ``None``.

        Documents are built as the superuser and read by every synchronization
        user, so a mapping, a template, a domain or a condition may only name
        what the person saving it could read: the model, then each field of
        the path (its ``groups``; the fields a related field follows), then each
        model the path enters.  Fields of the credential groups are refused to
        everybody (:func:`is_secret`).  The message names the field and why,
        never a value.
        """
        env = self.env(su=False)
        return self._path_access_error_in(env, model_name, tuple(chain), depth=0)

    @api.model
    def _path_access_error_in(self, env, model_name, chain, depth):
        if depth > 8:
            return _("%(model)s: the fields follow each other too deep.", model=model_name)
        model = env.get(model_name)
        if model is None:
            return _("%(model)s is not a model here.", model=model_name)
        if not env["ir.model.access"].check(model_name, "read", raise_exception=False):
            return _("you may not read %(model)s.", model=model_name)
        for position, segment in enumerate(chain):
            field = model._fields.get(segment)
            if field is None:
                return _("%(segment)r is not a field of %(model)s.", segment=segment, model=model._name)
            if is_secret(field) or field.groups == ".":
                return _("the field %(field)s of %(model)s holds credentials or is hidden from everybody: it never "
                         "goes into a document.", field=segment, model=model._name)
            if not field.is_accessible(env):
                return _("you may not read the field %(field)s of %(model)s (it is restricted to some groups).",
                         field=segment, model=model._name)
            if field.related:
                related = field.related.split(".") if isinstance(field.related, str) else list(field.related)
                error = self._path_access_error_in(env, model._name, tuple(related), depth + 1)
                if error:
                    return _("%(field)s of %(model)s follows another path: %(error)s", field=segment,
                             model=model._name, error=error)
            if field.type in ("many2one", "one2many", "many2many") and position < len(chain) - 1:
                model = env.get(field.comodel_name)
                if model is None:
                    return _("%(model)s is not a model here.", model=field.comodel_name)
                if not env["ir.model.access"].check(model._name, "read", raise_exception=False):
                    return _("you may not read %(model)s, which %(field)s holds.", model=model._name, field=segment)
            elif position < len(chain) - 1:
                return _("%(segment)r of %(model)s is not relational.", segment=segment, model=model._name)
        return None

    # ------------------------------------------------------------------
    # Checks
    # ------------------------------------------------------------------
    def _error(self, message, **kw):
        prefix = _("Line %(prop)r of %(data_type)s: ", prop=self.name, data_type=self.data_type_id.display_name)
        return ValidationError(prefix + message % kw if kw else prefix + message)

    @api.constrains("name")
    def _check_name_reserved(self):
        for line in self:
            if (line.name or "").startswith("$"):
                raise line._error(_("property names starting with \"$\" are reserved: {\"$ref\": ...} is the "
                                    "receiver's id in a reference, which no property may be mistaken for."))

    @api.constrains("line_type", "value", "reference_id", "cardinality", "primary")
    def _check_line(self):
        for line in self:
            check = getattr(line, f"_check_{line.line_type}_line")
            check()
            if line.primary and line.line_type != "field":
                raise line._error(_("only field lines can be primary."))

    def _check_field_line(self):
        if not self.value or "." in self.value:
            raise self._error(_("a field line takes a field of the model, without a dotted path (%(value)r)."),
                              value=self.value)
        if self._model_field() is None:
            raise self._error(_("%(value)r is not a field of %(model)s."), value=self.value,
                              model=self.data_type_id.model_name)
        if is_secret(self._model_field()):
            raise self._error(_("%(value)r is readable by administrators or managers only: it never goes into a "
                                "document."), value=self.value)

    def _check_model_line(self):
        field = self._model_field()
        if field is None or field.type not in RELATIONAL:
            raise self._error(_("%(value)r is not a relational field of %(model)s."), value=self.value,
                              model=self.data_type_id.model_name)
        if not self.reference_id:
            raise self._error(_("a model line needs the data type of the related records."))
        if self.reference_id.model_name != field.comodel_name:
            raise self._error(
                _("the data type %(ref)s maps %(ref_model)s, but %(field)s holds %(comodel)s."),
                ref=self.reference_id.display_name, ref_model=self.reference_id.model_name,
                field=self.value, comodel=field.comodel_name,
            )

    def _check_reference_line(self):
        field = self._model_field()
        if field is None or field.type not in RELATIONAL:
            raise self._error(_("%(value)r is not a relational field of %(model)s."), value=self.value,
                              model=self.data_type_id.model_name)
        if self.reference_id and self.reference_id.model_name != field.comodel_name:
            raise self._error(
                _("the data type %(ref)s maps %(ref_model)s, but %(field)s holds %(comodel)s."),
                ref=self.reference_id.display_name, ref_model=self.reference_id.model_name,
                field=self.value, comodel=field.comodel_name,
            )

    def _check_default_line(self):
        try:
            chains = paths(self.value or "")
        except TemplateError as exc:
            raise self._error(_("the template is invalid: %(error)s"), error=exc) from None
        model = self.env[self.data_type_id.model_name]
        for chain in chains:
            self._check_chain(model, chain)

    def _check_chain(self, model, chain):
        current = model
        for position, segment in enumerate(chain):
            field = current._fields.get(segment)
            if field is None:
                raise self._error(
                    _("{%(path)s} is not a field chain: %(segment)r is not a field of %(model)s."),
                    path=".".join(chain), segment=segment, model=current._name,
                )
            if is_secret(field):
                raise self._error(_("{%(path)s}: %(segment)r is readable by administrators or managers only: it "
                                    "never goes into a document."), path=".".join(chain), segment=segment)
            if position < len(chain) - 1:
                if field.type not in RELATIONAL:
                    raise self._error(
                        _("{%(path)s} is not a field chain: %(segment)r is not relational."),
                        path=".".join(chain), segment=segment,
                    )
                current = self.env[field.comodel_name]

    def _check_code_line(self):
        try:
            check_expression(self.value or "")
        except CodeCheckError as exc:
            raise self._error(_("the expression is refused: %(error)s"), error=exc) from None

    # ------------------------------------------------------------------
    # Access: Python code is for administrators only
    # ------------------------------------------------------------------
    def _check_code_access(self, vals_list):
        if self.env.su or self.env.user.has_group("base.group_system"):
            return
        touches_code = any(vals.get("line_type") == "code" for vals in vals_list) or (
            self and any(self.filtered(lambda line: line.line_type == "code")) and any(
                {"value", "line_type"} & set(vals) for vals in vals_list)
        )
        if touches_code:
            raise AccessError(
                _("Only members of Settings / Administration may create or change Python code lines.")
            )

    @api.model_create_multi
    def create(self, vals_list):
        self.browse()._check_code_access(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        self._check_code_access([vals])
        return super().write(vals)

    # ------------------------------------------------------------------
    # Parsed forms, for the engine
    # ------------------------------------------------------------------
    def _template_tokens(self):
        self.ensure_one()
        return parse(self.value or "")
