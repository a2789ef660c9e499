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
        # Tokens come from sync.system._generate_inbound_token only: a token
        # typed in by hand would never have been random.
        if not self.env.su and not self.env.context.get("sync_token_generated"):
            raise UserError(_("Inbound tokens are created with the button 'Generate Token' of their system."))
        return super().create(vals_list)

    def write(self, vals):
        if {"prefix", "token_hash", "system_id"} & set(vals) and not self.env.su:
            raise UserError(_("A token's secret and system cannot be changed; revoke it and generate another."))
        return super().write(vals)

    def action_revoke(self):
        """Revoke the tokens at once; a revoked token is refused and cannot be restored."""
        self.filtered(lambda t: not t.revoked_at).write({"revoked_at": fields.Datetime.now()})
        for system in self.system_id:
            system.message_post(body=_("An inbound token was revoked."))
