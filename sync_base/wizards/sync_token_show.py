from odoo import fields, models


class SyncTokenShow(models.AbstractModel):
    """Shows a freshly generated token once.

    An abstract model (no table), as Odoo's ``res.users.apikeys.show``: the
    clear token lives only in the action's context and the browser, never in
    the database.
    """

    _name = "sync.token.show"
    _description = "Show Inbound Token"

    # the field 'id' is needed for the onchange that returns the token
    id = fields.Id()
    token = fields.Char(readonly=True)
    system_name = fields.Char(readonly=True)
