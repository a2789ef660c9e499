from odoo import fields, models


class SyncSystem(models.Model):
    _inherit = "sync.system"

    transport = fields.Selection(
        selection_add=[("webhook", "Webhook (example)")],
        # uninstalling the addon archives its systems and keeps their queue
        ondelete={"webhook": lambda systems: systems._on_transport_uninstalled()},
    )
    webhook_url = fields.Char(string="Webhook URL", help="Each envelope is POSTed here as JSON.")
