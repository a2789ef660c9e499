import datetime

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.safe_eval import safe_eval

from odoo.addons.sync_mapping.lib.domain_check import check_domain, plain_context


def _sendable(value):
    """``value`` with its dates and datetimes as Odoo's strings: XML-RPC and JSON carry no date."""
    if isinstance(value, (list, tuple)):
        return [_sendable(item) for item in value]
    if isinstance(value, datetime.datetime):
        return fields.Datetime.to_string(value)
    if isinstance(value, datetime.date):
        return fields.Date.to_string(value)
    return value


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
        help="Which records of the remote model to pull, as a domain on its fields, e.g. [('customer_rank', '>', 0)]. "
        "It is written as the data type's domain (plain values and date helpers only, e.g. "
        "[('write_date', '>=', now - relativedelta(days=30))]); dates are sent as text.",
    )
    rpc_watermark_ids = fields.One2many("sync.rpc.watermark", "data_type_id", string="Pull Watermarks")

    @api.constrains("rpc_pull_domain")
    def _check_rpc_pull_domain(self):
        for data_type in self:
            try:
                data_type._rpc_pull_domain()
            except ValueError as exc:  # the message names a part of the source, never an evaluated value
                raise ValidationError(_("%(name)s: the remote domain is not a domain: %(error)s",
                                        name=data_type.display_name, error=exc)) from None

    def _rpc_pull_domain(self):
        """The remote domain as a list of terms; raise ``ValueError`` when it is not a domain.

        As the data type's domain (:meth:`_get_domain`), it is checked with
        :func:`~odoo.addons.sync_mapping.lib.domain_check.check_domain` and
        evaluated with plain values only; its field paths are the remote
        model's, so they are not checked here.
        """
        self.ensure_one()
        check_domain(self.rpc_pull_domain)  # DomainCheckError is a ValueError that names the part refused
        context = plain_context(self.env.uid, self.env.company.id, self.env.companies.ids, fields.Datetime.now())
        try:
            domain = safe_eval(self.rpc_pull_domain or "[]", context)
        except Exception:  # noqa: BLE001 - its text would hold evaluated values
            raise ValueError("it cannot be evaluated: a date helper got an argument it cannot take (a date out of "
                             "range, a wrong type)") from None
        return [_sendable(term) if isinstance(term, (list, tuple)) else term for term in domain]
