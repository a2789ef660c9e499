from odoo import _, models
from odoo.exceptions import UserError


class SyncCredentialsMixin(models.AbstractModel):
    """Models that hold credentials: fields marked ``exportable=False`` never leave through an export.

    Odoo 18.0's export dialog offers them anyway and ``export_data`` does
    not look at the flag, so the export itself refuses them, also when they
    are reached through a relation (``system_id/rpc_password``).
    """

    _name = "sync.credentials.mixin"
    _description = "Synchronization Credentials"

    def _export_rows(self, fields, *, _is_toplevel_call=True):
        secret = sorted({path[0] for path in fields if path and path[0] in self._fields
                         and not self._fields[path[0]].exportable})
        if secret:
            raise UserError(_("Credentials are never exported: remove %(fields)s from the export.",
                              fields=", ".join(self._fields[name].string for name in secret)))
        return super()._export_rows(fields, _is_toplevel_call=_is_toplevel_call)
