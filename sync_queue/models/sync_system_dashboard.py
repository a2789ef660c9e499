from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL

from ..lib import dashboard, states

# the messages a card's state counts open, by the context key its buttons set
DASHBOARD_STATE_KEY = "sync_dashboard_state"


class SyncSystem(models.Model):
    """The Dashboard: one card per system with the state of its queue, as its user may read it.

    Every figure is a non-stored compute over the messages the current user
    may read (their record rules apply), computed for all the cards of a page
    in one query on the outgoing messages and one on the incoming ones.
    """

    _inherit = "sync.system"

    dashboard_pending_count = fields.Integer(compute="_compute_dashboard", string="Pending Messages")
    dashboard_waiting_count = fields.Integer(compute="_compute_dashboard", string="Waiting Messages")
    dashboard_retry_count = fields.Integer(compute="_compute_dashboard", string="Messages to Retry")
    dashboard_sending_count = fields.Integer(compute="_compute_dashboard", string="Messages Being Sent")
    dashboard_sent_count = fields.Integer(compute="_compute_dashboard", string="Messages Awaiting Acknowledgement")
    dashboard_failed_count = fields.Integer(compute="_compute_dashboard", string="Failed Messages")
    dashboard_cancelled_count = fields.Integer(compute="_compute_dashboard", string="Cancelled Messages")
    dashboard_done_hour_count = fields.Integer(compute="_compute_dashboard", string="Acknowledged (last hour)")
    dashboard_done_day_count = fields.Integer(compute="_compute_dashboard", string="Acknowledged (last 24 h)")
    dashboard_oldest_pending = fields.Char(
        compute="_compute_dashboard", string="Oldest to Send",
        help="How long the oldest message still to send (pending, waiting or to retry) has been waiting.",
    )
    dashboard_pending_late = fields.Boolean(
        compute="_compute_dashboard",
        help="The oldest message to send waits longer than the alert threshold of the settings.",
    )
    dashboard_inbound_failed_count = fields.Integer(compute="_compute_dashboard", string="Incoming Failed")
    dashboard_inbound_retry_count = fields.Integer(compute="_compute_dashboard", string="Incoming to Retry")

    # computed with the reader's rights: never served from the cache to another user, nor to sudo()
    @api.depends_context("uid", "allowed_company_ids")
    def _compute_dashboard(self):
        stats = self._dashboard_stats()
        inbound = self._dashboard_inbound_stats()
        threshold = self._dashboard_alert_minutes()
        for system in self:
            card = stats.get(system.id) or dashboard.card_counts([])
            counts = card["counts"]
            system.dashboard_pending_count = counts["pending"]
            system.dashboard_waiting_count = counts["waiting"]
            system.dashboard_retry_count = counts["retry"]
            system.dashboard_sending_count = counts["sending"]
            system.dashboard_sent_count = counts["sent"]
            system.dashboard_failed_count = counts["failed"]
            system.dashboard_cancelled_count = counts["cancelled"]
            system.dashboard_done_hour_count = card["done_last_hour"]
            system.dashboard_done_day_count = card["done_last_day"]
            age = card["oldest_pending_age_s"]
            system.dashboard_oldest_pending = self._dashboard_age_label(age)
            system.dashboard_pending_late = age is not None and age > threshold * 60
            system.dashboard_inbound_failed_count = inbound.get((system.id, "failed"), 0)
            system.dashboard_inbound_retry_count = inbound.get((system.id, "retry"), 0)

    def _dashboard_alert_minutes(self):
        """The settings' alert threshold of the oldest message to send, read as the managers' alert reads it
        (a value out of range or no number, set by hand in the system parameters, is the default)."""
        return self.env["res.config.settings"].sudo()._sync_queue_param("sync_queue.alert_pending_minutes")

    def _dashboard_age_label(self, seconds):
        parts = dashboard.age_parts(seconds)
        if parts is None:
            return False
        number, unit = parts
        # each label spelled out, for the translation files
        labels = {
            "d": _("%(n)s d", n=number),
            "h": _("%(n)s h", n=number),
            "min": _("%(n)s min", n=number),
            "s": _("%(n)s s", n=number),
        }
        return labels[unit]

    def _dashboard_stats(self):
        """``{system id: card}`` (see :func:`..lib.dashboard.card_counts`) of the outgoing messages of these
        systems that the current user may read, in one query grouped by system and state."""
        ids = [system_id for system_id in self.ids if system_id]
        if not ids:
            return {}
        Message = self.env["sync.message"]
        # _search applies the user's access rights and record rules: the card counts what its reader may read
        query = Message._search([("system_id", "in", ids)])
        table = query.table
        system_col = Message._field_to_sql(table, "system_id", query)
        state_col = Message._field_to_sql(table, "state", query)
        created = Message._field_to_sql(table, "create_date", query)
        acked = Message._field_to_sql(table, "acked_at", query)
        now = fields.Datetime.now()
        query.groupby = SQL("%s, %s", system_col, state_col)
        rows = self.env.execute_query(query.select(
            system_col, state_col, SQL("count(*)"),
            SQL("min(%s) FILTER (WHERE %s IN %s)", created, state_col, states.DUE),
            SQL("count(*) FILTER (WHERE %s = 'done' AND %s >= %s)", state_col, acked,
                now - timedelta(seconds=dashboard.THROUGHPUT_WINDOWS["hour"])),
            SQL("count(*) FILTER (WHERE %s = 'done' AND %s >= %s)", state_col, acked,
                now - timedelta(seconds=dashboard.THROUGHPUT_WINDOWS["day"])),
        ))
        by_system = {}
        for system_id, state, count, oldest, hour, day in rows:
            age = (now - oldest).total_seconds() if oldest else None
            by_system.setdefault(system_id, []).append((state, count, age, hour, day))
        return {system_id: dashboard.card_counts(system_rows) for system_id, system_rows in by_system.items()}

    def _dashboard_inbound_stats(self):
        """``{(system id, state): count}`` of the incoming messages not applied that the current user may read."""
        ids = [system_id for system_id in self.ids if system_id]
        if not ids:
            return {}
        groups = self.env["sync.inbound.message"]._read_group(
            [("system_id", "in", ids), ("state", "in", ("failed", "retry"))], ["system_id", "state"], ["__count"])
        return {(system.id, state): count for system, state, count in groups}

    # ------------------------------------------------------------------
    # The cards' buttons
    # ------------------------------------------------------------------
    def action_open_failed(self):
        """The failed messages of this system: the card's failed count clicked through."""
        return self._dashboard_messages_action(["failed"], _("Failed: %(system)s", system=self.display_name))

    def action_dashboard_messages(self):
        """The messages of this system in the state the card's button put in the context (all of them
        without one)."""
        self.ensure_one()
        state = self.env.context.get(DASHBOARD_STATE_KEY)
        labels = dict(states.STATES)
        if state not in labels:
            return self._dashboard_messages_action(None, _("Messages: %(system)s", system=self.display_name))
        return self._dashboard_messages_action(
            [state], _("%(state)s: %(system)s", state=labels[state], system=self.display_name))

    def action_open_inbound_failed(self):
        """The incoming messages of this system that failed or wait to be retried."""
        action = self.action_view_inbound_messages()
        action["domain"] = [("system_id", "=", self.id), ("state", "in", ("failed", "retry"))]
        action["name"] = action["display_name"] = _("Incoming Failed: %(system)s", system=self.display_name)
        return action

    def _dashboard_messages_action(self, message_states, name):
        self.ensure_one()
        action = self._action_messages(message_states)
        action["name"] = action["display_name"] = name
        return action
