import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .sync_system import CODE_RE, OWN_CODE_PARAM


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    sync_own_code = fields.Char(
        string="Code of this Database",
        help="The source of every message this database sends, and the code under which "
        "other systems configure it. Defaults to the database name.",
    )

    @api.model
    def get_values(self):
        res = super().get_values()
        res["sync_own_code"] = self.env["sync.system"]._get_own_code()
        return res

    def set_values(self):
        res = super().set_values()
        code = (self.sync_own_code or "").strip()
        if code and not CODE_RE.match(code):
            raise ValidationError(
                _(
                    "The code of this database %(code)r is invalid: use lowercase letters, digits, '_' and '-'.",
                    code=code,
                )
            )
        default = re.sub(r"[^a-z0-9_-]", "_", self.env.cr.dbname.lower())
        self.env["ir.config_parameter"].sudo().set_param(OWN_CODE_PARAM, code if code != default else False)
        return res
