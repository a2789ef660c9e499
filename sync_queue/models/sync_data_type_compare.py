import logging

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..lib import compare
from ..lib.inbound import parse_relay_sources

_logger = logging.getLogger(__name__)

#: the longest interval of a scheduled comparison, in hours (a year)
MAX_COMPARE_INTERVAL = 24 * 366


class SyncDataType(models.Model):
    """Reconciliation settings of a data type, and its Compare button."""

    _inherit = "sync.data.type"

    compare_interval = fields.Integer(
        string="Compare Every (hours)", default=0,
        help="Compare what this data type sends with what each of its systems holds, every so many hours. "
             "0: never on a schedule (Compare by hand still works).")
    compare_auto_repair = fields.Boolean(
        string="Repair Automatically",
        help="When a scheduled comparison finds records out of step, queue their repair without waiting for a "
             "person to press Repair.")
    compare_run_ids = fields.One2many("sync.compare.run", "data_type_id", string="Comparisons")

    @api.constrains("compare_interval")
    def _check_compare_interval(self):
        for data_type in self:
            if not 0 <= data_type.compare_interval <= MAX_COMPARE_INTERVAL:
                raise ValidationError(_(
                    "Compare Every (hours) of %(name)s must be from 0 (never) to %(max)s hours; it is %(value)s.",
                    name=data_type.display_name, max=MAX_COMPARE_INTERVAL, value=data_type.compare_interval))

    def action_compare(self):
        """Compare what this data type sends with what each of its systems holds now."""
        self.ensure_one()
        runs = self.env["sync.compare.run"]._start(self.system_ids, self)
        return runs._open_action()

    def action_view_compare_runs(self):
        self.ensure_one()
        return self.env["sync.compare.run"]._list_action([("data_type_id", "=", self.id)],
                                                         _("Comparisons of %(name)s", name=self.name))

    # ------------------------------------------------------------------
    # The receiving side of a comparison: /sync/<code>/digest and /documents
    # ------------------------------------------------------------------
    @api.model
    def _compare_answer(self, system, body, documents=False):
        """The answer of this database to a comparison request of ``system`` (``lib.compare.parse_digest_request``).

        For each record id of the sender, the digest (or, with ``documents``,
        the document) that this database's inbound data type of the message
        type produces now for the record bound to it, or ``null`` when there is
        none; without ids, a page of the sender's ids bound here.  Records are
        read with the system's inbound user: one it may not read is answered
        as not here.  A broker may ask about the records of one of its relay
        sources (``"source"``), as it may send their documents.  Raises
        :class:`~..lib.compare.CompareProtocolError` for a
        malformed request and ``LookupError`` when no data type accepts the
        message type from ``system``.
        """
        message_type, model, ids, properties, listing, source = compare.parse_digest_request(body)
        source = source or system.code
        if source != system.code and source not in parse_relay_sources(system.relay_sources):
            # as for documents received: only its own records, or those of the sources it relays
            raise compare.CompareProtocolError(
                f"'source': system {system.code} may not ask about records of {source}: only its own code or one "
                "of its relay sources")
        data_type = self.sudo()._inbound_data_type(system, message_type)[:1]
        if not data_type:
            raise LookupError(_("No enabled data type accepts messages of type %(type)s from %(system)s.",
                                type=message_type, system=system.code))
        if not system.user_id:
            raise LookupError(_("System %(system)s has no inbound user to read documents with.", system=system.code))
        prefix = f"{source}/{model}/"
        self.env["sync.binding"].flush_model()
        if listing is not None:
            after, limit = listing
            # the sender's ids are the end of the reference: compared as numbers, in order
            self.env.cr.execute(SQL(
                "SELECT source_id, res_id FROM (SELECT CASE WHEN substr(remote_ref, %(start)s) ~ '^[0-9]{1,9}$' "
                "THEN substr(remote_ref, %(start)s)::int END AS source_id, res_id FROM sync_binding "
                "WHERE system_id = %(system)s AND model = %(model)s AND remote_model = %(remote)s "
                "AND remote_ref LIKE %(like)s) AS bound WHERE source_id > %(after)s ORDER BY source_id "
                "LIMIT %(limit)s",
                start=len(prefix) + 1, system=system.id, model=data_type.model_name, remote=model,
                like=_like_prefix(prefix), after=after, limit=limit))
            rows = self.env.cr.fetchall()
            readable = set(self._compare_readable(system, data_type, [res_id for _s, res_id in rows]).ids)
            return {"records": [{"id": source_id, "remote_ref": str(res_id)} for source_id, res_id in rows
                                if res_id in readable],
                    "next": rows[-1][0] if len(rows) == limit else None}
        self.env.cr.execute(SQL(
            "SELECT remote_ref, res_id FROM sync_binding WHERE system_id = %s AND model = %s AND remote_model = %s "
            "AND remote_ref = ANY(%s)", system.id, data_type.model_name, model, [f"{prefix}{i}" for i in ids]))
        local = {int(ref[len(prefix):]): res_id for ref, res_id in self.env.cr.fetchall()}
        records = self._compare_readable(system, data_type, list(local.values()))
        comparable = {line.name for line in data_type.line_ids if line.line_type in ("field", "model", "reference")}
        common = comparable & set(properties) if properties is not None else comparable
        built, failed = {}, {}
        # the inbound user bounds what the documents reach, embedded and referenced records too, as the data
        # type's owner does (a context key that only adds a bound)
        serializer = data_type.with_context(sync_compare_local_refs=True, sync_preview_uid=system.user_id.id)
        for record, document, error in serializer._serialize_collect(records, system) if records else ():
            if error:
                # the details stay here: they may name what the inbound user may not read
                _logger.info("Comparison of %s: the document of %s,%s does not build: %s", system.code,
                             record._name, record.id, error)
                failed[record.id] = _("this database cannot build its document of the record (its server log "
                                      "says why)")
            else:
                built[record.id] = compare.restrict(document, common)
        rows = []
        for source_id in ids:
            res_id = local.get(source_id)
            document = built.get(res_id)
            if res_id in failed:
                # held here, but its document does not build: the sender shows why instead of "missing"
                rows.append({"id": source_id, "remote_ref": str(res_id), "document" if documents else "digest": None,
                             "error": failed[res_id]})
            elif document is None:
                rows.append({"id": source_id, "document" if documents else "digest": None})
            elif documents:
                rows.append({"id": source_id, "remote_ref": str(local[source_id]), "document": document})
            else:
                rows.append({"id": source_id, "remote_ref": str(local[source_id]),
                             "digest": compare.digest(document)})
        return {"type": message_type, "properties": sorted(common), "records": rows}

    @api.model
    def _compare_readable(self, system, data_type, res_ids):
        """Of the records ``res_ids`` of ``data_type``'s model, those that exist and ``system``'s inbound user may
        read, as the suite (sudo): what a comparison may say it holds."""
        Model = self.env[data_type.model_name].sudo().with_context(active_test=False)
        existing = Model.browse(res_ids).exists()
        if not existing:
            return existing
        as_user = existing.with_user(system.user_id).with_context(active_test=False)
        if system.company_id:
            as_user = as_user.with_company(system.company_id)
        return existing.browse(as_user._filtered_access("read").ids)


def _like_prefix(prefix):
    """``prefix`` as the start of a LIKE pattern, its wildcards escaped."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
