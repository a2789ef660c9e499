from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

TRUE_WORDS = {"1", "true", "yes", "y", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "f", ""}


class SyncCondition(models.Model):
    """A simple test on a field, which a record must pass (with the others and the domain) to be sent."""

    _name = "sync.condition"
    _inherit = ["sync.data.type.part"]
    _description = "Synchronization Condition"
    _order = "data_type_id, sequence, id"

    data_type_id = fields.Many2one("sync.data.type", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    model_name = fields.Char(related="data_type_id.model_name")
    field_name = fields.Char(required=True, help="Technical name of a stored field of the model.")
    operator = fields.Selection(
        [("=", "="), ("!=", "!="), ("in", "in"), ("not in", "not in")],
        required=True,
        default="=",
    )
    value = fields.Char(help="For 'in' and 'not in', a comma-separated list. Empty means 'not set'.")

    @api.constrains("field_name", "operator", "value", "data_type_id")
    def _check_field_name(self):
        """Refuse a condition on a field that is not searchable, or that the person saving it may not read.

        Records are selected as the superuser and a condition tells, record by
        record, whether its field holds a value: like a domain, it may only
        test what its author could read (no credentials, no field of a group
        they are not in).
        """
        Line = self.env["sync.mapping.line"]
        for condition in self:
            condition._to_leaf()
            error = Line._path_access_error(condition.data_type_id.model_name, [condition.field_name])
            if error:
                raise ValidationError(
                    _("Condition of %(data_type)s: %(error)s", data_type=condition.data_type_id.display_name,
                      error=error)
                )

    def _field(self):
        self.ensure_one()
        model = self.env.get(self.data_type_id.model_name)
        field = model._fields.get(self.field_name) if model is not None else None
        if field is None or not field.store and not field.search:
            raise ValidationError(
                _("Condition of %(data_type)s: %(field)r is not a searchable field of %(model)s.",
                  data_type=self.data_type_id.display_name, field=self.field_name,
                  model=self.data_type_id.model_name)
            )
        return field

    def _typed(self, field, text):
        text = (text or "").strip()
        try:
            if field.type in ("integer", "many2one", "one2many", "many2many"):
                return int(text) if text else False
            if field.type in ("float", "monetary"):
                return float(text) if text else False
        except ValueError:
            raise ValidationError(
                _("Condition on %(field)s of %(data_type)s: %(value)r is not a number.",
                  field=self.field_name, data_type=self.data_type_id.display_name, value=text)
            ) from None
        if field.type == "boolean":
            if text.lower() not in TRUE_WORDS | FALSE_WORDS:
                raise ValidationError(
                    _("Condition on %(field)s of %(data_type)s: %(value)r is not true or false.",
                      field=self.field_name, data_type=self.data_type_id.display_name, value=text)
                )
            return text.lower() in TRUE_WORDS
        return text or False

    def _to_leaf(self):
        """The condition as a domain leaf, its value typed after the field."""
        self.ensure_one()
        field = self._field()
        if self.operator in ("in", "not in"):
            values = [self._typed(field, part) for part in (self.value or "").split(",") if part.strip()]
            return (self.field_name, self.operator, values)
        return (self.field_name, self.operator, self._typed(field, self.value))
