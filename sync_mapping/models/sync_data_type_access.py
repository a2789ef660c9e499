from odoo import _, api, models
from odoo.exceptions import ValidationError


class SyncDataType(models.Model):
    """What a data type names must be readable by the person who saves it.

    Documents are built as the superuser and read by every synchronization
    user: a data type may only map a model its author may read, and its lines
    only fields they may read (see ``sync.mapping.line._path_access_error``).
    Lines check themselves when they are created or changed; changing the
    model of a data type changes what every line reads, so they are all
    checked again then, and when the lines are written through the data type.
    """

    _inherit = "sync.data.type"

    @api.constrains("model_id", "line_ids")
    def _check_lines_access(self):
        """Check the model and every line again, with the rights of the user saving (never the superuser's)."""
        Line = self.env["sync.mapping.line"]
        for data_type in self:
            error = Line._path_access_error(data_type.model_name, ())
            if error:
                raise ValidationError(
                    _("%(data_type)s maps %(model)s: %(error)s", data_type=data_type.display_name,
                      model=data_type.model_name, error=error)
                )
            data_type.line_ids._check_line()
