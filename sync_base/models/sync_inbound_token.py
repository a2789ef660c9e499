from odoo import _, api, fields, models
from odoo.exceptions import UserError


class SyncInboundToken(models.Model):
    """A bearer token with which a remote system calls this database.

    Only the SHA-256 of a token is stored: it is shown once, when generated.
    Several tokens of one system may be valid at once, so a token can be
    rotated with an overlap.  Changes are deliberately not tracked.
    """

    _name = "sync.inbound.token"
    _inherit = ["sync.credentials.mixin"]
    _description = "Synchronization Inbound Token"
    _order = "create_date desc, id desc"

    name = fields.Char(required=True)
    system_id = fields.Many2one("sync.system", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="system_id.company_id", store=True)
    prefix = fields.Char(required=True, readonly=True, index=True, help="The first characters of the token.")
    token_hash = fields.Char(required=True, readonly=True, groups="base.group_system", copy=False, exportable=False)
    expires_at = fields.Datetime(help="After this moment the token is refused. Leave empty for no expiry.")
    revoked_at = fields.Datetime(readonly=True)
    active = fields.Boolean(default=True)
    state = fields.Selection(
        [("valid", "Valid"), ("expired", "Expired"), ("revoked", "Revoked")],
        compute="_compute_state",
    )

    @api.depends("expires_at", "revoked_at")
    def _compute_state(self):
        now = fields.Datetime.now()
        for token in self:
            if token.revoked_at:
                token.state = "revoked"
            elif token.expires_at and token.expires_at <= now:
                token.state = "expired"
            else:
                token.state = "valid"

    @api.model_create_multi
    def create(self, vals_list):
        # Tokens come from sync.system._generate_inbound_token only, which creates them as the suite (sudo): a
        # token typed in by hand would never have been random.  No context key opens this door: context keys
        # arrive from any RPC caller.
        if not self.env.su:
            raise UserError(_("Inbound tokens are created with the button 'Generate Token' of their system."))
        return super().create(vals_list)

    def write(self, vals):
        """Write ``vals``; a token's secret, system and revocation never move back.

        Whoever writes, superuser included: the hash, the prefix and the system
        cannot change; a revocation is final (set once, never cleared or moved);
        an expiry can only move earlier (or be set where there was none).
        """
        self._check_token_write(vals)
        return super().write(vals)

    def _check_token_write(self, vals):
        if {"prefix", "token_hash", "system_id"} & set(vals):
            raise UserError(_("A token's secret and system cannot be changed; revoke it and generate another."))
        if "revoked_at" in vals:
            if not vals["revoked_at"]:
                raise UserError(_("A revoked token stays revoked: generate another one."))
            if any(self.sudo().mapped("revoked_at")):
                raise UserError(_("A revoked token stays revoked: its revocation cannot be changed."))
        if "expires_at" in vals:
            new = fields.Datetime.to_datetime(vals["expires_at"]) if vals["expires_at"] else None
            for token in self.sudo():
                if token.expires_at and (new is None or new > token.expires_at):
                    raise UserError(
                        _("The expiry of token %(name)s can only move earlier: generate another token to extend "
                          "access.", name=token.name)
                    )

    def action_revoke(self):
        """Revoke the tokens at once; a revoked token is refused and cannot be restored."""
        self.filtered(lambda t: not t.revoked_at).write({"revoked_at": fields.Datetime.now()})
        for system in self.system_id:
            system.message_post(body=_("An inbound token was revoked."))
        return True
