import json

from odoo import api, fields, models
from odoo.exceptions import UserError


class SyncPreview(models.TransientModel):
    """Shows the document a record becomes, or why it cannot."""

    _name = "sync.preview"
    _description = "Synchronization Document Preview"

    data_type_id = fields.Many2one("sync.data.type", required=True, ondelete="cascade")
    model_name = fields.Char(related="data_type_id.model_name")
    record_ref = fields.Reference(string="Record", selection="_selection_target_model")
    system_id = fields.Many2one(
        "sync.system", string="As Sent To", help="Bindings, company and language of this system apply."
    )
    document = fields.Text(compute="_compute_document")
    error = fields.Text(compute="_compute_document")

    @api.model
    def _selection_target_model(self):
        return [(model.model, model.name) for model in self.env["ir.model"].sudo().search([])]

    @api.depends("data_type_id", "record_ref", "system_id")
    def _compute_document(self):
        for wizard in self:
            wizard.document = wizard.error = False
            record = wizard.record_ref
            if not record or not wizard.data_type_id:
                continue
            if record._name != wizard.data_type_id.model_name:
                wizard.error = f"Pick a record of {wizard.data_type_id.model_name}."
                continue
            try:
                entries = wizard.data_type_id._serialize_collect(record, wizard.system_id or None)
            except UserError as exc:
                wizard.error = exc.args[0]
                continue
            if not entries:
                wizard.error = "This record belongs to another company than the system's: it is never sent there."
                continue
            _record, document, error = entries[0]
            if error:
                wizard.error = error.args[0]
            else:
                wizard.document = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False)
