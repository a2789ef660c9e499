from odoo import models


class SyncCondition(models.Model):
    _name = "sync.condition"
    _inherit = ["sync.condition", "sync.capture.config.mixin"]
