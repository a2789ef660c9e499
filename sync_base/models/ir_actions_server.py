from odoo import api, models

from .. import compat


class IrActionsServer(models.Model):
    _inherit = "ir.actions.server"

    @api.model
    def _sync_restrict_to_group(self, action_id, group_xmlid):
        """Make the server action ``action_id`` available to the group ``group_xmlid`` only.

        For the suite's data files: the field that holds an action's groups
        is ``groups_id`` on Odoo 18.0 and ``group_ids`` on 19.0, so a data
        file cannot name it on both."""
        group = self.env.ref(group_xmlid)
        self.browse(action_id).write({compat.GROUP_IDS: [(6, 0, group.ids)]})
