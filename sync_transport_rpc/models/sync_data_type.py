import datetime

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools.safe_eval import safe_eval

from odoo.addons.sync_mapping.lib.domain_check import check_domain, plain_context


def _sendable(value):
    """``value`` with its dates and datetimes as Odoo's strings: XML-RPC and JSON carry no date."""
    if isinstance(value, (list, tuple)):
        return [_sendable(item) for item in value]
    if isinstance(value, datetime.datetime):
        return fields.Datetime.to_string(value)
    if isinstance(value, datetime.date):
        return fields.Date.to_string(value)
    return value


class SyncDataType(models.Model):
    _inherit = "sync.data.type"

    remote_model = fields.Char(
        help="RPC transport, plain mode: the model on the remote Odoo (default: the same model). The property "
        "names are then that model's field names, so a sale order here can become a purchase order there.",
    )
    rpc_pull = fields.Boolean(
        string="Pull from Plain Odoo Systems",
        help="RPC transport, plain mode: also read the records changed on the remote Odoo and apply them here, as "
        "the system's user. Records pulled from a system are not sent back to it.",
    )
    rpc_pull_domain = fields.Char(
        string="Remote Domain", default="[]",
        help="Which records of the remote model to pull, as a domain on its fields, e.g. [('customer_rank', '>', 0)]. "
        "It is written as the data type's domain (plain values and date helpers only, e.g. "
        "[('write_date', '>=', now - relativedelta(days=30))]); dates are sent as text.",
    )
    rpc_watermark_ids = fields.One2many("sync.rpc.watermark", "data_type_id", string="Pull Watermarks")

    @api.constrains("rpc_pull_domain")
    def _check_rpc_pull_domain(self):
        for data_type in self:
            try:
                data_type._rpc_pull_domain()
            except ValueError as exc:  # the message names a part of the source, never an evaluated value
                raise ValidationError(_("%(name)s: the remote domain is not a domain: %(error)s",
                                        name=data_type.display_name, error=exc)) from None

    def _rpc_pull_domain(self):
        """The remote domain as a list of terms; raise ``ValueError`` when it is not a domain.

        As the data type's domain (:meth:`_get_domain`), it is checked with
        :func:`~odoo.addons.sync_mapping.lib.domain_check.check_domain` and
        evaluated with plain values only; its field paths are the remote
        model's, so they are not checked here.
        """
        self.ensure_one()
        check_domain(self.rpc_pull_domain)  # DomainCheckError is a ValueError that names the part refused
        context = plain_context(self.env.uid, self.env.company.id, self.env.companies.ids, fields.Datetime.now())
        try:
            domain = safe_eval(self.rpc_pull_domain or "[]", context)
        except Exception:  # noqa: BLE001 - its text would hold evaluated values
            raise ValueError("it cannot be evaluated: a date helper got an argument it cannot take (a date out of "
                             "range, a wrong type)") from None
        return [_sendable(term) if isinstance(term, (list, tuple)) else term for term in domain]

    # ------------------------------------------------------------------
    # Plain mode: properties are the remote model's field names
    # ------------------------------------------------------------------
    def _plain_systems(self):
        return self.system_ids.filtered(lambda system: system.transport == "rpc" and system.rpc_mode == "plain")

    def _keeps_field_names(self):
        """A plain-mode Odoo writes each property as the field of that name: lines suggest field names."""
        return bool(self._plain_systems()) or super()._keeps_field_names()

    def _remote_field_check(self):
        """``[(system, unknown property names, why it could not be checked)]`` for each plain-mode system.

        The top-level properties of the lines are compared with the remote
        model's fields (``remote_model``, or the same model); an unreachable
        system gives its reason instead, and blocks nothing.
        """
        self.ensure_one()
        names = [name for name in self.line_ids.sorted(lambda line: (line.sequence, line.id)).mapped("name") if name]
        remote_model = self.remote_model or self.model_name
        report = []
        for system in self._plain_systems():
            fields_there, error = self.env["sync.rpc.plain"]._remote_field_names(system, remote_model)
            unknown = [name for name in names if name not in fields_there] if fields_there is not None else []
            report.append((system, unknown, error))
        return report

    def action_check_remote_fields(self):
        """Check the property names against the fields of the remote model on each plain-mode system.

        Shows a notification: the unknown properties per system, or why a
        system could not be checked (it is down, refused the login...).
        """
        self.ensure_one()
        if not self.env.su and not self.env.user.has_group("sync_base.group_sync_manager"):
            raise AccessError(_("Only synchronization managers check a data type against its systems."))
        remote_model = self.remote_model or self.model_name
        report = self._remote_field_check()
        if not report:
            lines, kind = [_("%(name)s sends to no system in plain RPC mode: nothing to check.",
                             name=self.display_name)], "info"
        else:
            lines, kind = [], "success"
            for system, unknown, error in report:
                if error:
                    lines.append(_("%(system)s: could not check: %(reason)s", system=system.display_name,
                                   reason=error))
                    kind = "warning"
                elif unknown:
                    lines.append(_("%(system)s: %(model)s there has no field %(names)s: rename these properties to "
                                   "its field names.", system=system.display_name, model=remote_model,
                                   names=", ".join(unknown)))
                    kind = "warning"
                else:
                    lines.append(_("%(system)s: every property is a field of %(model)s.",
                                   system=system.display_name, model=remote_model))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Remote fields of %(name)s", name=self.display_name),
                "message": "\n".join(lines),
                "type": kind,
                "sticky": kind == "warning",
            },
        }
