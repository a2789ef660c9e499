import base64
import json

from odoo import _, fields, models
from odoo.exceptions import UserError


class SyncLibraryImport(models.TransientModel):
    """Import a library's configuration exported by another database; importing twice changes nothing."""

    _name = "sync.library.import"
    _description = "Import a Synchronization Library"

    file = fields.Binary(required=True, attachment=False)
    filename = fields.Char()

    def action_import(self):
        """Import the file as the user who runs the wizard: what it maps must be readable by them."""
        self.ensure_one()
        try:
            data = json.loads(base64.b64decode(self.file or b""))
        except ValueError as exc:
            raise UserError(_("The file is not a JSON library export: %(error)s", error=exc)) from None
        # never as the superuser, even if this wizard is called through sudo(): the file's lines are the user's
        library = self.env["sync.library"].with_env(self.env(su=False))._import_config(data)
        return {
            "type": "ir.actions.act_window",
            "res_model": "sync.library",
            "res_id": library.id,
            "views": [(False, "form")],
            "target": "current",
        }
