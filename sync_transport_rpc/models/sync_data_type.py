from odoo import fields, models


class SyncDataType(models.Model):
    _inherit = "sync.data.type"

    remote_model = fields.Char(
        help="RPC transport, plain mode: the model on the remote Odoo (default: the same model). The property "
        "names are then that model's field names, so a sale order here can become a purchase order there.",
    )
