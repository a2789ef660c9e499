from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

# the latest messages an overview lists; "All Messages" opens the rest
OVERVIEW_LIMIT = 80


class SyncRecordOverview(models.TransientModel):
    """How one record is synchronized: what the Synchronization smart button of its form opens.

    It keeps only the record's model and id.  Everything it shows is
    computed when it is read, with the reader's rights: a user sees the
    messages, bindings and incoming messages he may read, and the record's
    name only when he may read the record.
    """

    _name = "sync.record.overview"
    _description = "Synchronization of a Record"

    res_model = fields.Char(string="Model", required=True, readonly=True)
    res_id = fields.Integer(string="Record ID", required=True, readonly=True)
    record_name = fields.Char(compute="_compute_record_name", string="Record")
    message_ids = fields.Many2many("sync.message", compute="_compute_lists", string="Outgoing Messages")
    message_count = fields.Integer(compute="_compute_lists")
    message_failed_count = fields.Integer(compute="_compute_lists")
    binding_ids = fields.Many2many("sync.binding", compute="_compute_lists", string="Bindings")
    inbound_message_ids = fields.Many2many("sync.inbound.message", compute="_compute_lists",
                                           string="Incoming Messages")

    # computed with the reader's rights: never served from the cache to another user, nor to sudo()
    @api.depends("res_model", "res_id")
    @api.depends_context("uid", "allowed_company_ids")
    def _compute_record_name(self):
        for overview in self:
            overview.record_name = f"{overview.res_model},{overview.res_id}"
            if overview.res_model not in self.env:
                continue
            record = self.env[overview.res_model].browse(overview.res_id).exists()
            try:
                record.check_access("read")
            except AccessError:
                continue
            if record:
                overview.record_name = record.display_name

    @api.depends("record_name")
    @api.depends_context("uid", "allowed_company_ids")
    def _compute_display_name(self):
        # the breadcrumb of the overview
        for overview in self:
            overview.display_name = _("Synchronization: %(record)s", record=overview.record_name)

    @api.depends("res_model", "res_id")
    @api.depends_context("uid", "allowed_company_ids")
    def _compute_lists(self):
        # the reader's own environment: the record rules of messages and bindings apply
        Message = self.env["sync.message"]
        for overview in self:
            domain = overview._record_domain()
            overview.message_ids = Message.search(domain, limit=OVERVIEW_LIMIT)
            overview.message_count = Message.search_count(domain)
            overview.message_failed_count = Message.search_count(domain + [("state", "=", "failed")])
            overview.binding_ids = self.env["sync.binding"].search(domain)
            overview.inbound_message_ids = self.env["sync.inbound.message"].search(
                [("res_model", "=", overview.res_model), ("res_id", "=", overview.res_id)], limit=OVERVIEW_LIMIT)

    def _record_domain(self):
        self.ensure_one()
        return [("model", "=", self.res_model), ("res_id", "=", self.res_id)]

    def action_open_messages(self):
        """Every outgoing message of the record, in the message list."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("sync_queue.sync_message_action")
        action["domain"] = self._record_domain()
        action["context"] = {}
        action["name"] = action["display_name"] = _("Messages: %(record)s", record=self.record_name)
        return action

    def action_sync_now(self):
        """Queue the record for every enabled data type of its model now, as its Synchronize Now action does."""
        self.ensure_one()
        record = self.env[self.res_model].browse(self.res_id).exists() if self.res_model in self.env else None
        if not record:
            raise UserError(_("%(record)s no longer exists: it cannot be synchronized.", record=self.record_name))
        return self.env["sync.message"]._action_sync_now(record)
