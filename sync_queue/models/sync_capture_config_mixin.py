from odoo import api, models


class SyncCaptureConfigMixin(models.AbstractModel):
    """Configuration that capture depends on: any change clears the registry cache.

    Odoo signals a cleared cache to every worker and server through the
    registry's sequences, so capture follows a new data type without a restart.
    """

    _name = "sync.capture.config.mixin"
    _description = "Synchronization Capture Configuration"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env.registry.clear_cache()
        return records

    def write(self, vals):
        result = super().write(vals)
        self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result
