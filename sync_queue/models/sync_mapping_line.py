from odoo import models


class SyncMappingLine(models.Model):
    _name = "sync.mapping.line"
    _inherit = ["sync.mapping.line", "sync.capture.config.mixin"]
