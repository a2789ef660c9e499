from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.safe_eval import safe_eval


class SyncDataType(models.Model):
    _inherit = "sync.data.type"

    remote_model = fields.Char(
        help="RPC transport, plain mode: the model on the remote Odoo (default: the same model). The property "
        "names are then that model's field names, so a sale order here can become a purchase order there.",
    )
    rpc_pull = fields.Boolean(
        string="Pull from Plain Odoo Systems",
        help="RPC transport, plain mode: also read the records changed on the remote Odoo and apply them here, as "
        "the system's user. Records pulled from a system are not sent back to it.",
    )
    rpc_pull_domain = fields.Char(
        string="Remote Domain", default="[]",
        help="Which records of the remote model to pull, as a domain on its fields, e.g. [('customer_rank', '>', 0)].",
    )
    rpc_watermark_ids = fields.One2many("sync.rpc.watermark", "data_type_id", string="Pull Watermarks")

    @api.constrains("rpc_pull_domain")
    def _check_rpc_pull_domain(self):
        for data_type in self:
            try:
                data_type._rpc_pull_domain()
            except (ValueError, SyntaxError, NameError, TypeError) as exc:
                raise ValidationError(_("%(name)s: the remote domain is not a domain: %(error)s",
                                        name=data_type.display_name, error=exc)) from None

    def _rpc_pull_domain(self):
        """The remote domain as a list; raise ``ValueError`` when it is not a list of terms."""
        self.ensure_one()
        domain = safe_eval(self.rpc_pull_domain or "[]")
        if not isinstance(domain, (list, tuple)) or not all(
                isinstance(term, (list, tuple)) and len(term) == 3 or term in ("&", "|", "!") for term in domain):
            raise ValueError(f"{self.rpc_pull_domain!r} is not a list of (field, operator, value) terms")
        return [list(term) if isinstance(term, (list, tuple)) else term for term in domain]
