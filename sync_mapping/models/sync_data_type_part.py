from odoo import api, models


class SyncDataTypePart(models.AbstractModel):
    """A part of a data type's configuration (a mapping line, a condition): changing it changes the data type.

    So a change follows the data type's rules: one that runs code is changed
    by administrators only (``sync.data.type._check_code_owner``), and whoever
    changes a part becomes the data type's owner, whose rights bound what it
    sends (``_take_ownership``).  The models define ``data_type_id``.
    """

    _name = "sync.data.type.part"
    _description = "Part of a Synchronization Data Type"

    def _touched_data_types(self, vals_list):
        """The data types that a change of these parts with ``vals_list`` concerns.

        Override to add others (a model line concerns the data type it embeds).
        """
        touched = self.data_type_id
        for vals in vals_list:
            touched |= self.env["sync.data.type"].browse(vals.get("data_type_id") or [])
        return touched

    @api.model_create_multi
    def create(self, vals_list):
        self.browse()._touched_data_types(vals_list)._check_code_owner()
        parts = super().create(vals_list)
        parts.data_type_id._take_ownership()
        return parts

    def write(self, vals):
        self._touched_data_types([vals])._check_code_owner()
        before = self.data_type_id
        result = super().write(vals)
        (before | self.data_type_id)._take_ownership()
        return result

    def unlink(self):
        self._touched_data_types([])._check_code_owner()
        data_types = self.data_type_id
        result = super().unlink()
        data_types.exists()._take_ownership()
        return result
