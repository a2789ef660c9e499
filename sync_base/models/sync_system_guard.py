from odoo import _, api, models
from odoo.exceptions import AccessError

from .. import compat

# groups whose members may give a system any inbound user and any company: they hold every right already
FULL_POWER_GROUP = "base.group_system"
# an inbound user in these groups would apply documents with powers over users, rights and settings
POWER_GROUPS = ("base.group_system", "base.group_erp_manager")


class SyncSystem(models.Model):
    """What a Synchronization manager may configure without gaining anything.

    Whoever holds a system's token acts as its inbound user, and a manager
    generates tokens; documents sent to a system leave the database as the
    suite (superuser) within the system's company.  So a manager who is not a
    Settings administrator may only choose himself as inbound user (an
    administrator chooses anybody else), generate tokens only for systems
    whose inbound user has no more groups and companies than his own and is
    no administrator, and give a system only a company of his own (no company
    at all: only if he has every company).
    """

    _inherit = "sync.system"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_inbound_user_choice(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_inbound_user_choice(vals)
        return super().write(vals)

    @api.model
    def _check_inbound_user_choice(self, vals):
        """Only an administrator chooses another person as a system's inbound user.

        Whoever holds a token acts as the inbound user: a manager choosing a
        colleague (even one with fewer groups) would act as him, write his own
        user record, post in his name.  A manager may choose himself, or leave
        the administrator's choice as it is.
        """
        if not vals.get("user_id") or vals["user_id"] == self.env.uid:
            return
        user = self.env.user.sudo()
        if user._is_superuser() or user.has_group(FULL_POWER_GROUP):
            return
        if all(system.user_id.id == vals["user_id"] for system in self.sudo()) and self:
            return
        raise AccessError(_("Only an administrator may choose another user as inbound user: whoever holds a token "
                            "of the system acts as that user.  Ask an administrator, or choose yourself."))

    @api.constrains("user_id", "company_id")
    def _check_grants_nothing(self):
        for system in self:
            reason = system._power_beyond(self.env.user)
            if reason:
                raise AccessError(reason)

    def _power_beyond(self, user):
        """Why ``user`` may not configure this system as it is (a message), or ``None``."""
        self.ensure_one()
        user = user.sudo()
        if user._is_superuser() or user.has_group(FULL_POWER_GROUP):
            return None
        companies = set(user.company_ids.ids)
        if self.company_id and self.company_id.id not in companies:
            return _("System %(system)s: you may only give it one of your own companies.", system=self.code)
        if not self.company_id and set(self.env["res.company"].sudo().search([]).ids) - companies:
            return _("System %(system)s: a system without a company reaches the records of every company; only "
                     "a user of all companies or an administrator may leave it empty.", system=self.code)
        inbound = self.sudo().user_id
        if not inbound:
            return None
        if inbound._is_superuser() or any(inbound.has_group(group) for group in POWER_GROUPS):
            return _("System %(system)s: documents from it would be applied by an administrator (%(user)s); only "
                     "an administrator may choose such an inbound user.", system=self.code, user=inbound.login)
        if set(inbound.company_ids.ids) - companies:
            return _("System %(system)s: the inbound user %(user)s works in companies you do not; choose a user "
                     "of your own companies.", system=self.code, user=inbound.login)
        if set(compat.all_groups(inbound).ids) - set(compat.all_groups(user).ids):
            return _("System %(system)s: the inbound user %(user)s has groups you do not have; whoever holds a "
                     "token of the system acts as that user, so choose a user with no more rights than yours.",
                     system=self.code, user=inbound.login)
        return None
