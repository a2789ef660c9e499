import base64
import json

from odoo import fields, models

FORMAT = "sync_mapping.library"
FORMAT_VERSION = 1


class SyncLibraryExport(models.TransientModel):
    """A library's configuration as one JSON file, to move a mapping from staging to production."""

    _name = "sync.library.export"
    _description = "Export a Synchronization Library"

    library_id = fields.Many2one("sync.library", required=True, ondelete="cascade")
    file = fields.Binary(readonly=True, attachment=False)
    filename = fields.Char(readonly=True)

    def action_export(self):
        self.ensure_one()
        data = self.library_id._export_config()
        self.write(
            {
                "file": base64.b64encode(json.dumps(data, indent=2, ensure_ascii=False).encode()),
                "filename": f"{self.library_id.slug}.sync-library.json",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/file/{self.filename}?download=true",
            "target": "self",
        }
