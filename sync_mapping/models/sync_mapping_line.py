from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

from ..lib.code_check import CodeCheckError, chain_text, record_chains
from ..lib.naming import suggest_property_name
from ..lib.template import TemplateError, parse, paths

RELATIONAL = ("many2one", "one2many", "many2many")
# fields restricted to these groups hold credentials (the suite's own, Odoo's): documents are serialized as the
# superuser and read by synchronization users, so no mapping may carry them out
SECRET_GROUPS = frozenset({"base.group_system", "base.group_erp_manager", "sync_base.group_sync_manager"})
# models that hold credentials whatever their access rights say: API keys (and TOTP devices, which are API keys)
# are readable by every employee, their record rules keeping each to its owner, but documents are built as the
# superuser; no document carries them, not even an administrator's
SECRET_MODELS = frozenset({
    "res.users.apikeys", "res.users.apikeys.description", "res.users.apikeys.show", "auth_totp.device",
})
# the methods a code line may call on records: they read, and nothing else
RECORD_METHODS = ("mapped", "filtered", "sorted", "ensure_one", "exists")
# field types whose value leads to records of a model chosen by the data, or holds them: not followed
OPAQUE_TYPES = frozenset({"reference", "many2one_reference", "properties", "properties_definition"})


def is_secret(field):
    """Whether ``field`` is restricted to the groups that hold credentials."""
    groups = {group.strip().lstrip("!") for group in (field.groups or "").split(",")}
    return bool(groups & SECRET_GROUPS)


class SyncMappingLine(models.Model):
    """One property of a data type's documents and where its value comes from."""

    _name = "sync.mapping.line"
    _inherit = ["sync.data.type.part"]
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
        if self.line_type == "field" and self.value and "." in self.value.strip("{}"):
            # the field picker follows relations (country_id > code): a path is what a template line renders
            path = self.value.strip("{}")
            self.line_type, self.value = "default", f"{{{path}}}"
            if not self.name:
                self.name = self._suggest_path_name(path)
            return
        if self.name or not self.value or self.line_type not in ("field", "model", "reference"):
            return
        if self.data_type_id._keeps_field_names():
            # a target that writes the properties as fields (plain Odoo RPC) needs the field's own name
            self.name = self.value
            return
        try:
            self.name = suggest_property_name(self.value, self.cardinality or "")
        except ValueError:
            return

    def _suggest_path_name(self, path):
        """The property suggested for a picked field path: ``country_id.code`` -> ``country_code``."""
        segments = [segment for segment in path.split(".") if segment]
        if self.data_type_id._keeps_field_names():
            return "_".join(segments)
        return "_".join(suggest_property_name(segment, None) for segment in segments)

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
        model the path enters.  Fields of the credential groups, and models
        that hold credentials (:data:`SECRET_MODELS`, or readable by the
        administration groups only), are refused to everybody.  The check is made
        with the user of the environment, never as the superuser, even when
        called through ``sudo()``.  The message names the field and why, never
        a value.
        """
        env = self.env(su=False)
        return self._path_access_error_in(env, model_name, tuple(chain), depth=0)

    @api.model
    def _model_access_error(self, env, model_name, holder=None):
        """Why the user of ``env`` may not read the records of ``model_name``, or ``None``."""
        if env.get(model_name) is None:
            return _("%(model)s is not a model here.", model=model_name)
        if self._is_secret_model(model_name):
            return _("%(model)s holds credentials: it never goes into a document.", model=model_name)
        if not env["ir.model.access"].check(model_name, "read", raise_exception=False):
            if holder:
                return _("you may not read %(model)s, which %(field)s holds.", model=model_name, field=holder)
            return _("you may not read %(model)s.", model=model_name)
        return None

    @api.model
    def _is_secret_model(self, model_name):
        """Whether ``model_name`` holds credentials whatever the access rights say (:data:`SECRET_MODELS`)."""
        return model_name in SECRET_MODELS

    @staticmethod
    def _user_has_groups(env, spec):
        """``has_groups`` of the user of ``env``, without its debug-mode exception for ``base.group_no_one``.

        A field shown in debug mode only is no secret: whoever may read it may
        turn debug mode on, so the answer must not depend on the request.
        """
        user = env.user
        groups = [group.strip() for group in spec.split(",")]
        if any(user._has_group(group[1:]) for group in groups if group.startswith("!")):
            return False
        positives = [group for group in groups if not group.startswith("!")]
        return not positives or any(user._has_group(group) for group in positives)

    @api.model
    def _field_access_error(self, env, model, segment):
        """Why the user of ``env`` may not read the field ``segment`` of ``model``, or ``None``."""
        field = model._fields.get(segment)
        if field is None:
            return _("%(segment)r is not a field of %(model)s.", segment=segment, model=model._name)
        if is_secret(field) or field.groups == ".":
            return _("the field %(field)s of %(model)s holds credentials or is hidden from everybody: it never "
                     "goes into a document.", field=segment, model=model._name)
        if field.groups and not env.su and not self._user_has_groups(env, field.groups):
            return _("you may not read the field %(field)s of %(model)s (it is restricted to some groups).",
                     field=segment, model=model._name)
        return None

    @api.model
    def _path_access_error_in(self, env, model_name, chain, depth):
        if depth > 8:
            return _("%(model)s: the fields follow each other too deep.", model=model_name)
        error = self._model_access_error(env, model_name)
        if error:
            return error
        model = env[model_name]
        for position, segment in enumerate(chain):
            error = self._field_access_error(env, model, segment)
            if error:
                return error
            field = model._fields[segment]
            if field.related:
                related = field.related.split(".") if isinstance(field.related, str) else list(field.related)
                error = self._path_access_error_in(env, model._name, tuple(related), depth + 1)
                if error:
                    return _("%(field)s of %(model)s follows another path: %(error)s", field=segment,
                             model=model._name, error=error)
            if field.type in RELATIONAL and position < len(chain) - 1:
                error = self._model_access_error(env, field.comodel_name, holder=segment)
                if error:
                    return error
                model = env[field.comodel_name]
            elif position < len(chain) - 1:
                return _("%(segment)r of %(model)s is not relational.", segment=segment, model=model._name)
        return None

    @api.model
    def _code_chain_error(self, model_name, chain):
        """Why the current user may not read what the code chain ``chain`` reads on ``model_name``, or ``None``.

        ``chain`` comes from :func:`~..lib.code_check.record_chains`.  On
        records each attribute must be a field the user may read (see
        :meth:`_path_access_error`), or ``ids``; the only methods are those of
        :data:`RECORD_METHODS`, and the paths given to ``mapped``,
        ``filtered`` and ``sorted`` are checked like fields.  After a field
        that is not relational the chain holds a plain value (text, a date...)
        whose methods are free; a reference field is not followed.  Of the
        system, a code line reads ``system.code`` and ``system.name`` only:
        the rest of a system is its connection, credentials included.
        """
        env = self.env(su=False)
        if chain[0] == "system":
            steps = chain[1:]
            if steps and not (steps[0][0] == "attr" and steps[0][1] in ("code", "name")):
                return _("a code line reads system.code and system.name only.")
            return None
        error = self._model_access_error(env, model_name)
        if error:
            return error
        state = ("records", model_name)
        for step in chain[1:]:
            state = self._code_step(env, state, step)
            if isinstance(state, str):
                return state
        return None

    @api.model
    def _code_step(self, env, state, step):
        """The state after ``step`` (``("records", model)``, ``("value",)``, ``("opaque", why)``), or an error."""
        if state[0] == "value":
            return state
        if state[0] == "opaque":
            return state[1]
        model = env[state[1]]
        kind = step[0]
        if kind == "item" and step[1] == "number":
            return state
        if kind == "item" and step[1] == "other":
            return _("records of %(model)s are indexed by a constant number or field name only.", model=model._name)
        if kind == "attr" and step[1] == "ids":
            return ("value",)
        if kind in ("attr", "item"):
            name = step[1] if kind == "attr" else step[2]
            if name not in model._fields:
                return _("%(name)r is not a field of %(model)s: on records a code line reads fields and calls "
                         "%(methods)s only.", name=name, model=model._name, methods=", ".join(RECORD_METHODS))
            return self._code_field_state(env, model, name)
        # a call
        method, arg = step[1], step[2]
        if method is None:
            return _("records of %(model)s cannot be called.", model=model._name)
        if method not in RECORD_METHODS:
            return _("%(method)s is called on %(model)s: on records a code line calls %(methods)s only.",
                     method=method, model=model._name, methods=", ".join(RECORD_METHODS))
        if method in ("ensure_one", "exists"):
            return state
        if arg[0] == "lambda" or (arg[0] == "none" and method == "sorted"):
            # mapped(lambda): what the lambda gives is followed on its own (record_chains)
            return ("opaque", _("what mapped(lambda ...) gives is not followed.")) if method == "mapped" else state
        if arg[0] != "path":
            return _("%(method)s takes a field path as a literal string, or a lambda.", method=method)
        current = state
        for segment in arg[1].split("."):
            current = self._code_step(env, current, ("attr", segment))
            if isinstance(current, str):
                return current
        return current if method == "mapped" else state

    @api.model
    def _code_field_state(self, env, model, name):
        error = self._path_access_error_in(env, model._name, (name,), depth=0)
        if error:
            return error
        field = model._fields[name]
        if field.type in RELATIONAL:
            error = self._model_access_error(env, field.comodel_name, holder=name)
            return error or ("records", field.comodel_name)
        if field.type in OPAQUE_TYPES:
            return ("opaque", _("%(field)s of %(model)s is a %(type)s field: a code line does not follow it.",
                                field=name, model=model._name, type=field.type))
        return ("value",)

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

    @api.constrains("data_type_id", "line_type", "value", "reference_id", "cardinality", "primary")
    def _check_line(self):
        """Each line must name fields of its model, and only what the person saving it may read.

        Also called when a data type's model or lines change, and at the
        import of a library (see ``sync.data.type`` and ``sync.library``).
        """
        for line in self:
            check = getattr(line, f"_check_{line.line_type}_line")
            check()
            if line.primary and line.line_type != "field":
                raise line._error(_("only field lines can be primary."))

    def _access_error(self, error):
        return self._error(_("%(error)s"), error=error)

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
        error = self._path_access_error(self.data_type_id.model_name, (self.value,))
        if error:
            raise self._access_error(error)

    def _check_relational_access(self, field):
        """The field, and the records it holds, must be readable by the person saving the line."""
        error = self._path_access_error(self.data_type_id.model_name, (self.value,)) or self._model_access_error(
            self.env(su=False), field.comodel_name, holder=self.value)
        if error:
            raise self._access_error(error)

    def _check_model_line(self):
        field = self._model_field()
        if field is None or field.type not in RELATIONAL:
            raise self._error(_("%(value)r is not a relational field of %(model)s."), value=self.value,
                              model=self.data_type_id.model_name)
        self._check_relational_access(field)
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
        self._check_relational_access(field)
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
            error = self._path_access_error(model._name, chain)
            if not error:
                # a path ending on records renders their display name
                last = self._chain_end(model, chain)
                if last.type in RELATIONAL:
                    error = self._path_access_error(last.comodel_name, ("display_name",))
            if error:
                raise self._error(_("{%(path)s}: %(error)s"), path=".".join(chain), error=error)

    def _chain_end(self, model, chain):
        for segment in chain[:-1]:
            model = self.env[model._fields[segment].comodel_name]
        return model._fields[chain[-1]]

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
        """The expression passes the static check, and reads only what the person saving it may read."""
        try:
            chains = record_chains(self.value or "")
        except CodeCheckError as exc:
            raise self._error(_("the expression is refused: %(error)s"), error=exc) from None
        # the longest first: the message names the deepest step that is refused
        for chain in sorted(chains, key=lambda chain: (-len(chain), chain_text(chain))):
            error = self._code_chain_error(self.data_type_id.model_name, chain)
            if error:
                raise self._error(_("the expression is refused: %(chain)s: %(error)s"), chain=chain_text(chain),
                                  error=error)

    # ------------------------------------------------------------------
    # Access: Python code is for administrators only
    # ------------------------------------------------------------------
    def _check_code_access(self, vals_list):
        if self.env.su or self.env.user.has_group("base.group_system"):
            return
        # any change of a code line, not only of its expression: moving an administrator's expression into
        # another data type (data_type_id), or renaming it, would run it where no administrator put it
        touches_code = any(vals.get("line_type") == "code" for vals in vals_list) or bool(
            self.filtered(lambda line: line.line_type == "code"))
        if touches_code:
            raise AccessError(
                _("Only members of Settings / Administration may create or change Python code lines.")
            )

    def _touched_data_types(self, vals_list):
        """A model line concerns the data type it embeds too: embedding one that runs code is changing it."""
        touched = super()._touched_data_types(vals_list)
        touched |= self.filtered(lambda line: line.line_type == "model").reference_id
        for vals in vals_list:
            if vals.get("reference_id") and vals.get("line_type", "model") == "model":
                touched |= self.env["sync.data.type"].browse(vals["reference_id"])
        return touched

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
