import logging

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.sync_base.lib.ranges import Range, read_stored
from odoo.addons.sync_base.models.sync_system import range_message

from ..lib.states import SEND_CRONS

_logger = logging.getLogger(__name__)

#: the queue's settings kept as system parameters: {parameter: (settings field, valid range with its default)};
#: the settings screen refuses a value out of its range, and the readers (``_sync_queue_param``) fall back to
#: the default, saying so in the log, for a value stored some other way
QUEUE_PARAMS = {
    "sync_queue.send_time_budget": ("sync_send_time_budget", Range(1, 3600, 60)),
    "sync_queue.lease_seconds": ("sync_lease_seconds", Range(1, 3600, 300)),
    # every setting has an upper bound: a day count of a million overflows the date arithmetic of the vacuum,
    # and a value over 2147483647 would be refused by PostgreSQL, not by the range check (100 years, a year)
    "sync_queue.vacuum_days": ("sync_vacuum_days", Range(1, 36500, 30)),
    "sync_queue.inbound_keep_days": ("sync_inbound_keep_days", Range(1, 36500, 7)),
    "sync_queue.alert_pending_minutes": ("sync_alert_pending_minutes", Range(1, 525600, 60)),
}
#: how many send schedulers may run: one per send cron
SEND_WORKERS = Range(1, len(SEND_CRONS), 2)
# (database, parameter, stored value) already reported by _sync_queue_param in this process: a warning each
# cron run would drown the log
_WARNED = set()


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    sync_send_workers = fields.Integer(
        string="Send Schedulers",
        help="How many send schedulers run in parallel (1 to 4); each takes the systems in turn.",
    )
    sync_send_time_budget = fields.Integer(
        string="Send Time Budget (seconds)", config_parameter="sync_queue.send_time_budget", default=60,
        help="A send run stops claiming messages after this many seconds (1 to 3600); keep it under the "
        "server's cron time limit (limit_time_real_cron).",
    )
    sync_lease_seconds = fields.Integer(
        string="Sending Lease (seconds)", config_parameter="sync_queue.lease_seconds", default=300,
        help="A message being sent is reserved for its sender this long, extended while the sender works; a "
        "sender that stopped (a crash, a restart) frees its messages when the lease ends (1 to 3600).",
    )
    sync_vacuum_days = fields.Integer(
        string="Keep Finished Messages (days)", config_parameter="sync_queue.vacuum_days", default=30,
        help="Done and cancelled messages are removed after this many days (1 to 36500).",
    )
    sync_inbound_keep_days = fields.Integer(
        string="Keep Incoming Messages (days)", config_parameter="sync_queue.inbound_keep_days", default=7,
        help="Received envelopes are kept this long, so a replay within it is answered and applied once "
        "(1 to 36500).",
    )
    sync_alert_pending_minutes = fields.Integer(
        string="Alert After (minutes)", config_parameter="sync_queue.alert_pending_minutes", default=60,
        help="The managers get a note when the oldest message to send of a system waits longer than this, "
        "and the dashboard shows it late (1 to 525600, a year).",
    )

    @api.constrains("sync_send_workers", *(field for field, _rng in QUEUE_PARAMS.values()))
    def _check_sync_queue_ranges(self):
        """Refuse a queue setting out of its range, naming it, the value entered and the range: nothing is
        changed, and a bad value already stored (by hand) must be corrected before the settings are saved."""
        for settings in self:
            settings._sync_queue_check_values({name: settings[name] for name, _rng in self._sync_queue_ranges()})

    @api.model
    def _sync_queue_ranges(self):
        return [("sync_send_workers", SEND_WORKERS)] + list(QUEUE_PARAMS.values())

    @api.model
    def _sync_queue_check_values(self, values):
        """Raise the range message of the first queue setting of ``values`` (``{field: value}``) out of range."""
        for name, rng in self._sync_queue_ranges():
            if name in values and values[name] not in rng:
                label = self._fields[name]._description_string(self.env)
                raise ValidationError(range_message(self.env, label, values[name], rng))

    @api.model_create_multi
    def create(self, vals_list):
        # checked before the INSERT too: a value over 2147483647 would otherwise be refused by PostgreSQL
        # ("integer out of range") before the constraint could name the setting and its range
        for vals in vals_list:
            self._sync_queue_check_values({name: value for name, value in vals.items()
                                           if isinstance(value, int) and not isinstance(value, bool)})
        return super().create(vals_list)

    def write(self, vals):
        self._sync_queue_check_values({name: value for name, value in vals.items()
                                       if isinstance(value, int) and not isinstance(value, bool)})
        return super().write(vals)

    @api.model
    def get_values(self):
        res = super().get_values()
        crons = [self.env.ref(xmlid, raise_if_not_found=False) for xmlid in SEND_CRONS]
        res["sync_send_workers"] = len([c for c in crons if c and c.active]) or 1
        return res

    def set_values(self):
        # the constraint keeps the number of schedulers within 1..len(SEND_CRONS): nothing to clamp here
        res = super().set_values()
        wanted = self.sync_send_workers
        for index, xmlid in enumerate(SEND_CRONS):
            cron = self.env.ref(xmlid, raise_if_not_found=False)
            if cron and cron.active != (index < wanted):
                cron.sudo().active = index < wanted
        return res

    @api.model
    def _sync_queue_param(self, key):
        """The value of the queue setting ``key`` (a key of ``QUEUE_PARAMS``), for the code that uses it.

        The settings screen refuses values out of range, but a parameter can be written by hand (Technical >
        System Parameters) or by a script: such a value is not used, the default is, with a warning in the log
        (once per process and value) saying what was found and what is used.
        """
        _field, rng = QUEUE_PARAMS[key]
        raw = self.env["ir.config_parameter"].sudo().get_param(key)
        value, problem = read_stored(raw, rng)
        if problem:
            marker = (self.env.cr.dbname, key, raw)
            if marker not in _WARNED:
                _WARNED.add(marker)
                low, high = rng.low, "" if rng.high is None else rng.high
                _logger.warning(
                    "System parameter %s is %r, %s (valid: %s..%s): using %s instead. Correct it in the "
                    "Synchronization settings.", key, raw, problem.replace("_", " "), low, high, value,
                )
        return value
