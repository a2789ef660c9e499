from odoo import api, models

from .. import compat


class ResGroups(models.Model):
    _inherit = "res.groups"

    @api.model
    def _sync_place_groups(self):
        """Place the suite's groups in the user form, and make the administrators managers.

        Called by ``security/sync_security.xml`` on every install and update.
        Odoo 18.0 groups an application's roles by ``category_id``; 19.0 by a
        ``res.groups.privilege`` (``privilege_id``), and names a group's users
        ``user_ids`` where 18.0 says ``users``: no data file can say this on
        both series.  Glue addons declared for one series cannot either:
        18.0.0 refuses to load a registry at all when an installable addon of
        another series is on its addons path."""
        category = self.env.ref("sync_base.module_category_synchronization")
        user_group = self.env.ref("sync_base.group_sync_user")
        manager_group = self.env.ref("sync_base.group_sync_manager")
        groups = user_group | manager_group
        if compat.SERIES >= 19:
            xml_id = "sync_base.res_groups_privilege_synchronization"
            privilege = self.env.ref(xml_id, raise_if_not_found=False)
            if not privilege:
                privilege = self.env["res.groups.privilege"].create(
                    {"name": category.name, "sequence": 60, "category_id": category.id})
                self.env["ir.model.data"]._update_xmlids([{"xml_id": xml_id, "record": privilege}])
            user_group.sequence, manager_group.sequence = 10, 20
            groups.privilege_id = privilege
        else:
            groups.category_id = category
        admins = self.env.ref("base.user_root") | self.env.ref("base.user_admin")
        manager_group.write({compat.USER_IDS: [(4, user.id) for user in admins]})
