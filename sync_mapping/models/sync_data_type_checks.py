import json

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..lib.schema_lines import compare, describe

MAX_DEPTH = 8


class SyncDataType(models.Model):
    """What the admin is told where he works: the lines against the schema, the records the data type selects."""

    _inherit = "sync.data.type"

    schema_warning = fields.Text(
        compute="_compute_schema_warning",
        help="Where the lines and the schema disagree: documents are validated against the schema before they are "
        "sent, so these would be refused.",
    )
    condition_domain = fields.Char(
        compute="_compute_condition_domain",
        help="The conditions as a domain (JSON), which the domain editor adds to its record count.",
    )

    @api.depends("line_ids.name", "line_ids.line_type", "line_ids.reference_id", "schema_id.schema")
    def _compute_schema_warning(self):
        for data_type in self:
            data_type.schema_warning = data_type._schema_disagreement()

    @api.depends("condition_ids.field_name", "condition_ids.operator", "condition_ids.value", "model_name")
    def _compute_condition_domain(self):
        for data_type in self:
            try:
                leaves = [condition._to_leaf() for condition in data_type.condition_ids]
                data_type.condition_domain = json.dumps(leaves, default=str)
            except (UserError, ValueError, KeyError, TypeError):  # a condition being typed: its own check tells
                data_type.condition_domain = False

    def _lines_tree(self, stack=()):
        """The lines' properties: ``{name: None}``, or ``{name: {...}}`` for the embedded data type of model lines."""
        tree = {}
        for line in self.line_ids:
            if not line.name:
                continue
            embedded = line.reference_id if line.line_type == "model" else None
            if embedded and embedded not in stack and len(stack) < MAX_DEPTH:
                tree[line.name] = embedded._lines_tree((*stack, self))
            else:
                tree[line.name] = None
        return tree

    def _schema_disagreement(self):
        """The warning text when the lines and the schema disagree, else ``False``; never an error."""
        if not self.schema_id:
            if not self.line_ids:
                return False
            return _("This data type has no schema: its documents cannot be sent. Generate one from the lines.")
        try:
            schema = json.loads(self.schema_id.schema or "")
        except ValueError:  # the schema's own check says what is wrong with it
            return False
        if not isinstance(schema, dict):
            return False
        not_allowed, missing = describe(compare(self._lines_tree(), schema))
        parts = []
        if not_allowed:
            parts.append(_("the schema does not allow the properties %(names)s, which lines fill",
                           names=", ".join(not_allowed)))
        if missing:
            parts.append(_("the schema requires the properties %(names)s, which no line fills",
                           names=", ".join(missing)))
        if not parts:
            return False
        return _("The lines and the schema %(schema)s disagree: %(parts)s. Documents will be refused until they "
                 "agree: regenerate the schema from the lines, or change the lines.",
                 schema=self.schema_id.display_name, parts="; ".join(parts))

    def action_regenerate_schema(self):
        """Rewrite the schema from the lines and stay on the data type (the warning's button)."""
        self.ensure_one()
        self.action_generate_schema()
        return True

    def _keeps_field_names(self):
        """Whether the properties of this data type must be field names (a target reads them as such).

        Lines then suggest the field's name as the property, not a friendlier one.
        Transports that write documents as fields override it.
        """
        return False

    def _preview_record(self):
        """``(record, notice)``: the first record the data type selects (conditions and domain), or why none.

        Searched as the current user: the preview shows only what he may read.
        """
        self.ensure_one()
        Model = self.env[self.model_name]
        try:
            domain = self._get_domain()
        except UserError as exc:  # ValidationError included: the message names the part of the domain refused
            return Model, exc.args[0]
        try:
            record = Model.search(domain, limit=1)
        except AccessError:
            return Model, _("You may not read the records of %(model)s: there is nothing to preview.",
                            model=self.model_name)
        if not record:
            return Model, _("No record of %(model)s that you may read matches the conditions and the domain of "
                            "%(name)s: pick one to see why it would not be sent.", model=self.model_name,
                            name=self.display_name)
        return record, False
