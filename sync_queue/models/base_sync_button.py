from lxml import etree

from odoo import _, api, models
from odoo.exceptions import AccessError

SYNC_USER_GROUP = "sync_base.group_sync_user"


class Base(models.AbstractModel):
    """The Synchronization smart button on the form of every model a data type maps.

    The button is added to the form's architecture in ``_get_view``, whose
    result Odoo caches per view and language (the ``templates`` cache) for all
    users: the query below runs once per form view and cache clearing, not per
    form opened, and a form of a model nothing maps costs nothing more once
    cached.  The button carries ``groups``: Odoo removes it for each user
    without the Synchronization user group after the cache
    (``ir.ui.view._postprocess_access_rights``).  It has no count: a count
    would be a field on every model of the database (``base``) or a request
    per form opened; the overview it opens counts.
    """

    _inherit = "base"

    @api.model
    def _get_view(self, view_id=None, view_type="form", **options):
        arch, view = super()._get_view(view_id, view_type, **options)
        if view_type == "form" and self._sync_button_wanted():
            self._sync_button_add(arch)
        return arch, view

    @api.model
    def _sync_button_wanted(self):
        """Whether a data type maps this model, enabled or not: its records may have messages and bindings."""
        if self._abstract or self._transient:
            return False
        return bool(self.env["sync.data.type"].sudo().with_context(active_test=False).search_count(
            [("model_name", "=", self._name)], limit=1))

    @api.model
    def _sync_button_add(self, arch):
        """Put the button at the end of the form's button box, adding a box where the form has none."""
        box = next(iter(arch.xpath("//div[@name='button_box']")), None)
        if box is None:
            box = etree.Element("div", {"class": "oe_button_box", "name": "button_box"})
            sheet = next(iter(arch.xpath("//sheet")), None)
            if sheet is not None:
                sheet.insert(0, box)
            else:
                header = next(iter(arch.xpath("/form/header")), None)
                if header is not None:
                    header.addnext(box)
                else:
                    arch.insert(0, box)
        button = etree.SubElement(box, "button", {
            "name": "action_open_sync_overview", "type": "object", "class": "oe_stat_button",
            "icon": "fa-exchange", "groups": SYNC_USER_GROUP, "invisible": "not id",
        })
        info = etree.SubElement(button, "div", {"class": "o_stat_info"})
        etree.SubElement(info, "span", {"class": "o_stat_text"}).text = _("Synchronization")

    def action_open_sync_overview(self):
        """Open what the suite knows of this record: its messages, bindings and incoming messages, limited to
        what the user may read."""
        self.ensure_one()
        if not self.env.user.has_group(SYNC_USER_GROUP):
            raise AccessError(_("Only synchronization users can see how a record is synchronized."))
        self.check_access("read")
        overview = self.env["sync.record.overview"].create({"res_model": self._name, "res_id": self.id})
        return {
            "type": "ir.actions.act_window",
            "name": _("Synchronization: %(record)s", record=self.display_name),
            "res_model": "sync.record.overview",
            "res_id": overview.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }


class SyncDataType(models.Model):
    """A data type created, deleted or moved to another model adds or removes a Synchronization button."""

    _inherit = "sync.data.type"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self._sync_button_refresh()
        return records

    def write(self, vals):
        result = super().write(vals)
        if "model_id" in vals:
            self._sync_button_refresh()
        return result

    def unlink(self):
        result = super().unlink()
        self._sync_button_refresh()
        return result

    @api.model
    def _sync_button_refresh(self):
        # the views are cached with the button or without it: other workers follow through the registry's
        # cache signaling at their next request
        self.env.registry.clear_cache("templates")
