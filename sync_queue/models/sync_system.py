import time
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

from odoo.addons.sync_base import compat
from odoo.addons.sync_base.lib.envelope import CODE_RE
from odoo.addons.sync_base.lib.ranges import Range

from ..lib import states
from ..lib.inbound import DEFAULT_MAX_BYTES, parse_relay_sources

# the advisory lock key of a system's sender: one sender per system, scheduler or user
SEND_LOCK = 4242
# seconds a user's Send Now may spend in a request; the schedulers send the rest
SEND_NOW_BUDGET = 20
#: the valid range of the queue's numeric fields of a system
QUEUE_SYSTEM_RANGES = {
    "inbound_max_bytes": Range(1024, 100 * 1024 * 1024),
}


class SyncSystem(models.Model):
    _inherit = "sync.system"

    sync_message_ids = fields.One2many("sync.message", "system_id", string="Outgoing Messages")
    inbound_message_ids = fields.One2many("sync.inbound.message", "system_id", string="Incoming Messages")
    inbound_count = fields.Integer(compute="_compute_inbound_count", string="Incoming")
    relay_sources = fields.Char(
        tracking=True,
        help="For a broker: the codes of the origins it may relay documents for (separated by commas). "
        "Without it the system may only send documents of its own code.",
    )
    inbound_max_bytes = fields.Integer(
        string="Inbound Size Limit (bytes)", default=DEFAULT_MAX_BYTES, tracking=True,
        help="Larger requests from this system are refused (413); 1024 bytes to 100 MiB (104857600 bytes).",
    )
    queue_pending_count = fields.Integer(compute="_compute_queue_dashboard", string="To Send",
                                         help="Pending, waiting and retrying messages.")
    queue_new_count = fields.Integer(compute="_compute_queue_dashboard", string="Pending")
    queue_waiting_count = fields.Integer(compute="_compute_queue_dashboard", string="Waiting")
    queue_retry_count = fields.Integer(compute="_compute_queue_dashboard", string="To Retry")
    queue_sending_count = fields.Integer(compute="_compute_queue_dashboard", string="Sending")
    queue_awaiting_count = fields.Integer(compute="_compute_queue_dashboard", string="Sent, Awaiting Acknowledgement")
    queue_cancelled_count = fields.Integer(compute="_compute_queue_dashboard", string="Cancelled")
    queue_sent_count = fields.Integer(compute="_compute_queue_dashboard", string="Awaiting Acknowledgement")
    queue_failed_count = fields.Integer(compute="_compute_queue_dashboard", string="Failed")
    queue_done_count = fields.Integer(compute="_compute_queue_dashboard", string="Done")
    queue_oldest_pending_age = fields.Float(
        compute="_compute_queue_dashboard", string="Oldest Pending (hours)", digits=(16, 2)
    )
    queue_rate_last_hour = fields.Integer(compute="_compute_queue_dashboard", string="Done in the Last Hour")
    queue_last_error = fields.Text(compute="_compute_queue_dashboard", string="Last Error")
    last_failed_alert_id = fields.Integer(readonly=True, copy=False)
    last_pending_alert_at = fields.Datetime(readonly=True, copy=False)

    def _compute_inbound_count(self):
        counts = dict(self.env["sync.inbound.message"]._read_group(
            [("system_id", "in", self.ids)], ["system_id"], ["__count"]))
        for system in self:
            system.inbound_count = counts.get(system, 0)

    @api.constrains("relay_sources", *QUEUE_SYSTEM_RANGES)
    def _check_inbound_settings(self):
        self._check_ranges(QUEUE_SYSTEM_RANGES)
        for system in self:
            bad = [code for code in parse_relay_sources(system.relay_sources) if not CODE_RE.match(code)]
            if bad:
                raise ValidationError(_("Relay sources of %(system)s: %(codes)s is not a system code (lowercase "
                                        "letters, digits, '_' and '-').", system=system.display_name,
                                        codes=", ".join(bad)))

    def _health(self):
        """What ``GET /sync/<code>/health`` answers: the outgoing queue of this system."""
        self.ensure_one()
        self.env["sync.message"].flush_model()
        stats = self._queue_stats()[self.id]
        age = stats["oldest_pending_age_s"]
        return {
            "system": self.code,
            "counts": stats["counts"],
            "oldest_pending_age_s": round(age, 3) if age is not None else None,
            "last_error": stats["last_error"],
        }

    def action_view_inbound_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("sync_queue.sync_inbound_message_action")
        action["domain"] = [("system_id", "=", self.id)]
        action["context"] = {}
        return action

    def _queue_stats(self):
        """``{system id: {counts, oldest_pending_age_s, done_last_hour, last_error}}`` in a few queries."""
        stats = {sid: {"counts": {}, "oldest_pending_age_s": None, "done_last_hour": 0, "last_error": None}
                 for sid in self.ids}
        if not self.ids:
            return stats
        now = fields.Datetime.now()
        cr = self.env.cr
        cr.execute(SQL(
            "SELECT system_id, state, count(*) FROM sync_message WHERE system_id = ANY(%s) GROUP BY 1, 2", self.ids
        ))
        for system_id, state, count in cr.fetchall():
            stats[system_id]["counts"][state] = count
        cr.execute(SQL(
            "SELECT system_id, min(create_date) FROM sync_message WHERE system_id = ANY(%s) AND state IN %s "
            "GROUP BY 1", self.ids, states.DUE,
        ))
        for system_id, oldest in cr.fetchall():
            stats[system_id]["oldest_pending_age_s"] = max((now - oldest).total_seconds(), 0)
        cr.execute(SQL(
            "SELECT system_id, count(*) FROM sync_message WHERE system_id = ANY(%s) AND state = 'done' "
            "AND acked_at >= %s GROUP BY 1", self.ids, now - timedelta(hours=1),
        ))
        for system_id, count in cr.fetchall():
            stats[system_id]["done_last_hour"] = count
        cr.execute(SQL(
            "SELECT DISTINCT ON (system_id) system_id, last_error FROM sync_message WHERE system_id = ANY(%s) "
            "AND last_error IS NOT NULL AND state IN ('failed', 'retry') ORDER BY system_id, write_date DESC",
            self.ids,
        ))
        for system_id, error in cr.fetchall():
            stats[system_id]["last_error"] = error
        return stats

    def _compute_queue_dashboard(self):
        self.env["sync.message"].flush_model()
        stats = self._queue_stats()
        for system in self:
            data = stats.get(system.id) or {"counts": {}}
            counts = data["counts"]
            system.queue_pending_count = sum(counts.get(s, 0) for s in states.DUE)
            system.queue_sent_count = counts.get("sent", 0) + counts.get("sending", 0)
            system.queue_new_count = counts.get("pending", 0)
            system.queue_waiting_count = counts.get("waiting", 0)
            system.queue_retry_count = counts.get("retry", 0)
            system.queue_sending_count = counts.get("sending", 0)
            system.queue_awaiting_count = counts.get("sent", 0)
            system.queue_cancelled_count = counts.get("cancelled", 0)
            system.queue_failed_count = counts.get("failed", 0)
            system.queue_done_count = counts.get("done", 0)
            age = data.get("oldest_pending_age_s")
            system.queue_oldest_pending_age = age / 3600 if age else 0.0
            system.queue_rate_last_hour = data.get("done_last_hour", 0)
            system.queue_last_error = data.get("last_error") or False

    def _action_messages(self, states=None):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("sync_queue.sync_message_action")
        domain = [("system_id", "=", self.id)]
        if states:
            domain.append(("state", "in", states))
        action["domain"] = domain
        action["context"] = {}
        return action

    def action_view_pending_messages(self):
        return self._action_messages(list(states.DUE))

    def action_view_failed_messages(self):
        return self._action_messages(["failed"])

    def action_view_messages(self):
        return self._action_messages()

    def action_send_now(self):
        """Send this system's due messages now, in this request, beside the schedulers: the claims keep any
        message from going twice.  Stops after a short time budget; the schedulers send the rest."""
        self.ensure_one()
        if not self.env.user.has_group("sync_base.group_sync_user"):
            raise AccessError(_("Only synchronization users can send messages."))
        self.check_access("read")
        system = self.sudo()
        if system.paused or not system.transport:
            return self._notify(_("%(name)s is paused or has no transport: nothing was sent.", name=system.name),
                                "warning")
        messages = self.env["sync.message"].sudo()
        messages.flush_model()
        if not system._lock_sending():
            return self._notify(_("A scheduler is sending to %(name)s right now.", name=system.name), "info")
        settings = messages._settings()
        sent = messages._send_system(system, settings, time.monotonic() + min(settings["budget"], SEND_NOW_BUDGET))
        return self._notify(_("%(count)s message(s) sent to %(name)s.", count=sent, name=system.name), "success")

    def _lock_sending(self):
        """Take the lock of this system's sender, held until the transaction ends; False when another sender
        (a scheduler, or a user's Send Now) holds it.  One sender per system at a time."""
        self.ensure_one()
        self.env.cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", SEND_LOCK, self.id))
        return self.env.cr.fetchone()[0]

    def _notify(self, message, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": kind, "next": {"type": "ir.actions.client", "tag": "soft_reload"}},
        }

    def _alert_managers(self):
        """One note per system and run, to the managers, when messages failed or the queue is too old."""
        threshold = self.env["res.config.settings"]._sync_queue_param("sync_queue.alert_pending_minutes")
        managers = compat.group_users(self.env.ref("sync_base.group_sync_manager")).filtered(lambda u: not u.share)
        partners = managers.partner_id
        now = fields.Datetime.now()
        stats = self._queue_stats()
        for system in self:
            self.env.cr.execute(SQL(
                "SELECT max(id), count(*) FROM sync_message WHERE system_id = %s AND state = 'failed' AND id > %s",
                system.id, system.last_failed_alert_id,
            ))
            max_failed, new_failed = self.env.cr.fetchone()
            lines = []
            if new_failed:
                lines.append(_("%(count)s message(s) failed: %(error)s", count=new_failed,
                               error=stats[system.id]["last_error"] or ""))
                system.last_failed_alert_id = max_failed
            age = stats[system.id]["oldest_pending_age_s"]
            recently = system.last_pending_alert_at and system.last_pending_alert_at > now - timedelta(hours=1)
            if age and age > threshold * 60 and not recently:
                lines.append(_("The oldest message to send waits since %(minutes)s minutes.",
                               minutes=int(age // 60)))
                system.last_pending_alert_at = now
            if lines:
                system.message_post(
                    body=_("Synchronization queue of %(name)s: %(details)s", name=system.name,
                           details=" ".join(lines)),
                    partner_ids=partners.ids,
                    message_type="notification",
                    subtype_xmlid="mail.mt_note",
                )
