from odoo import fields, models


class SyncSystem(models.Model):
    _inherit = "sync.system"

    transport = fields.Selection(
        selection_add=[("rpc", "Odoo RPC")],
        # Uninstalling the transport archives its systems and keeps their queue.
        ondelete={"rpc": lambda systems: systems._on_transport_uninstalled()},
    )
