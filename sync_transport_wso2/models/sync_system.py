from odoo import fields, models


class SyncSystem(models.Model):
    _inherit = "sync.system"

    transport = fields.Selection(
        selection_add=[("wso2", "WSO2 Broker")],
        # Uninstalling the transport archives its systems and keeps their queue.
        ondelete={"wso2": lambda systems: systems._on_transport_uninstalled()},
    )
