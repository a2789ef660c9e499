import json

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError


class SyncPreview(models.TransientModel):
    """Shows the document a record becomes, or why it cannot.

    The document is built with the rights of the user who asks: the record,
    every field and every related record the lines reach are read as him
    (template and code lines included: they get the record in his
    environment), so a preview never shows what he could not read himself.
    Documents sent by the queue, built as the superuser, are another matter:
    they hold what a manager mapped, which ``sync_mapping`` checks at save.
    """

    _name = "sync.preview"
    _description = "Synchronization Document Preview"

    data_type_id = fields.Many2one("sync.data.type", required=True, ondelete="cascade")
    model_name = fields.Char(related="data_type_id.model_name")
    record_ref = fields.Reference(string="Record", selection="_selection_target_model")
    system_id = fields.Many2one(
        "sync.system", string="As Sent To", help="Bindings, company and language of this system apply."
    )
    document = fields.Text(compute="_compute_document")
    notice = fields.Char(readonly=True, help="Why the preview opened on no record.")
    schema_warning = fields.Text(related="data_type_id.schema_warning")
    selection_note = fields.Char(compute="_compute_selection_note")
    error = fields.Text(compute="_compute_document")

    @api.model
    def _selection_target_model(self):
        # only the models the user may read: the list itself would tell him what is installed and where to look
        Access = self.env["ir.model.access"]
        return [(model.model, model.name) for model in self.env["ir.model"].sudo().search([])
                if model.model in self.env and Access.check(model.model, "read", raise_exception=False)]

    def _preview_refusal(self, record):
        """Why the current user may not preview ``record``, or ``None``.

        Says which record, never what it holds (Odoo's access error may name it).
        """
        for what, target in ((_("the record %(record)s", record=record._name + "," + str(record.id)), record),
                             (_("the system %(system)s", system=self.system_id.id), self.system_id)):
            if not target:
                continue
            try:
                target.check_access("read")
            except AccessError:
                return _("You may not read %(what)s: there is nothing to preview.", what=what)
        return None

    @api.depends("data_type_id", "record_ref")
    def _compute_selection_note(self):
        for wizard in self:
            record, data_type = wizard.record_ref, wizard.data_type_id
            wizard.selection_note = False
            if not record or not data_type or record._name != data_type.model_name:
                continue
            try:
                matches = bool(data_type._filter_matching(record))
            except (UserError, AccessError):  # a domain refused, a record not readable: said elsewhere
                continue
            if not matches:
                wizard.selection_note = _(
                    "This record does not match the conditions and the domain of %(name)s: it is not sent.",
                    name=data_type.display_name)

    @api.depends("data_type_id", "record_ref", "system_id")
    def _compute_document(self):
        for wizard in self:
            wizard.document = wizard.error = False
            record = wizard.record_ref
            if not record or not wizard.data_type_id:
                continue
            if record._name != wizard.data_type_id.model_name:
                wizard.error = _("Pick a record of %(model)s.", model=wizard.data_type_id.model_name)
                continue
            refusal = wizard._preview_refusal(record)
            if refusal:
                wizard.error = refusal
                continue
            data_type = wizard.data_type_id
            if data_type._holds_code() and not self.env.user.has_group("base.group_system"):
                # a code line reads as the suite, past the viewer's rights
                wizard.error = _("%(data_type)s runs Python code lines: only administrators preview it.",
                                 data_type=data_type.display_name)
                continue
            try:
                # bounded by the data type's owner, and by the viewer: a preview shows nothing he may not read
                entries = data_type.with_context(sync_preview_uid=self.env.uid)._serialize_collect(
                    record, wizard.system_id or None)
            except AccessError:
                # a field or a related record the user may not read: say so without Odoo's details
                wizard.error = _("The document reaches fields or records you may not read: there is nothing to "
                                 "preview.")
                continue
            except UserError as exc:
                wizard.error = exc.args[0]
                continue
            if not entries:
                wizard.error = _("This record belongs to another company than the system's: it is never sent there.")
                continue
            _record, document, error = entries[0]
            if isinstance(error, AccessError):
                wizard.error = _("The document reaches fields or records you may not read: there is nothing to "
                                 "preview.")
            elif error:
                wizard.error = error.args[0]
            else:
                wizard.document = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False)
