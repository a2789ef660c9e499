from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError


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

    owner_id = fields.Many2one(
        "res.users",
        string="Rights Of",
        readonly=True,
        copy=False,
        ondelete="restrict",
        default=lambda self: self.env.user,
        help="What this data type sends is limited to the records this user may read: the last person who changed "
        "it or its lines or conditions.  Envelopes are built by the suite and read by every synchronization user.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            vals_list = [dict(vals, owner_id=self.env.uid) for vals in vals_list]
        return super().create(vals_list)

    def write(self, vals):
        self._check_code_owner()
        # whoever changes a data type answers for what it sends from then on; nobody but the suite names another
        if not self.env.su:
            vals = dict(vals, owner_id=self.env.uid)
        return super().write(vals)

    def _holds_code(self, seen=None):
        """Whether these data types, or one they embed through model lines, hold Python code lines."""
        seen = set() if seen is None else seen
        for data_type in self.sudo():
            if data_type.id in seen:
                continue
            seen.add(data_type.id)
            if "code" in data_type.line_ids.mapped("line_type"):
                return True
            embedded = data_type.line_ids.filtered(lambda line: line.line_type == "model").reference_id
            if embedded._holds_code(seen):
                return True
        return False

    def _check_code_owner(self):
        """Only administrators change a data type that runs Python code, or embed it.

        A code line reads as the suite, past its owner's rights (only
        administrators write code): a manager who changed such a data type
        (its domain, its other lines) or embedded it in his own would choose
        which records it reads.
        """
        if self.env.su or self.env.user.has_group("base.group_system"):
            return
        for data_type in self:
            if data_type._holds_code():
                raise AccessError(
                    _("%(data_type)s runs Python code lines (itself or a data type it embeds): only members of "
                      "Settings / Administration change it or embed it.", data_type=data_type.display_name)
                )

    def _take_ownership(self):
        """Make the current user the owner of these data types (a line or condition of theirs changed)."""
        if self.env.su:
            return
        self.sudo().filtered(lambda data_type: data_type.owner_id.id != self.env.uid).write(
            {"owner_id": self.env.uid})

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
