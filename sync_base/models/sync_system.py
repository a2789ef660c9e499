import logging
import re

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.base.models.res_partner import _lang_get

from .. import compat
from ..lib import tokens as token_lib
from ..lib.ranges import Range
from ..lib.results import check_results
from ..lib.retry import DEFAULT_RETRY_DELAYS, RetryDelaysError, parse_retry_delays

_logger = logging.getLogger(__name__)

CODE_RE = re.compile(r"^[a-z0-9_-]+$")
OWN_CODE_PARAM = "sync_base.own_code"

#: the valid range of each numeric field of a system; the help of each field says it too
SYSTEM_RANGES = {
    "batch_size": Range(1, 1000),
    "batches_in_flight": Range(1, 8),
    "max_attempts": Range(1, 100),
    "timeout": Range(0.1, 600),
    "ack_timeout": Range(1, 86400),
}


def _number(value):
    """``30`` rather than ``30.0``: a whole float is shown as the integer the user typed."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def range_message(env, label, value, rng):
    """The message refusing ``value`` for the setting labelled ``label``: the setting, the value and its range."""
    kind, low, high = rng.describe()
    values = {"setting": label, "value": _number(value), "low": _number(low), "high": _number(high)}
    if kind == "between":
        return env._("%(setting)s must be between %(low)s and %(high)s; you entered %(value)s.", **values)
    if kind == "at_least":
        return env._("%(setting)s must be at least %(low)s; you entered %(value)s.", **values)
    return env._("%(setting)s must be at most %(high)s; you entered %(value)s.", **values)


class SyncSystem(models.Model):
    _name = "sync.system"
    _description = "Synchronization System"
    _inherit = ["mail.thread", "sync.credentials.mixin"]
    _order = "name, id"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        tracking=True,
        help="Unique code of the system: lowercase letters, digits, '_' and '-'. "
        "Used in message routing and in the inbound URLs /sync/<code>/...",
    )
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company",
        default=lambda self: self.env.company,
        tracking=True,
        help="Records of other companies never reach this system. Leave empty to share it.",
    )
    transport = fields.Selection(
        selection=[],
        tracking=True,
        help="How messages travel to this system; each transport addon adds its own.",
    )
    batch_size = fields.Integer(
        string="Batch Size (messages)",
        default=100,
        tracking=True,
        help="Messages handed to the transport at once (1 to 1000).",
    )
    batches_in_flight = fields.Integer(
        string="Batches in Flight",
        default=2,
        tracking=True,
        help="Batches of this system on the network at once, for transports that deliver while the queue "
             "prepares the next batch (Odoo RPC) (1 to 8).  Order is kept whatever the number: a record's "
             "message waits while an earlier one of the same record is unfinished, a message whose document "
             "references a record waits for that record's message, and a deletion waits for the documents "
             "that reference its record.",
    )
    retry_delays = fields.Char(
        string="Retry Delays (seconds)",
        default=DEFAULT_RETRY_DELAYS,
        required=True,
        tracking=True,
        help="Seconds to wait before each retry after a transient failure, comma-separated; the last repeats.",
    )
    max_attempts = fields.Integer(
        string="Maximum Attempts",
        default=8,
        tracking=True,
        help="After this many attempts a message is failed (dead letter); 1 to 100.",
    )
    timeout = fields.Float(
        string="Timeout (seconds)",
        default=30.0,
        tracking=True,
        help="Seconds every network call to this system may take (0.1 to 600).",
    )
    paused = fields.Boolean(tracking=True, help="Nothing is sent to, or accepted from, a paused system.")
    ack_timeout = fields.Integer(
        string="Acknowledgement Timeout (seconds)",
        default=3600,
        tracking=True,
        help="Seconds after which a message still waiting for its acknowledgement is sent again "
        "(1 to 86400, a day).",
    )
    lang = fields.Selection(
        _lang_get,
        string="Language",
        default=lambda self: self.env.lang or "en_US",
        help="Translatable fields are sent in this language.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Inbound User",
        tracking=True,
        domain=[("share", "=", False)],
        help="Documents received from this system are applied with this user's access rights. "
        "Use a dedicated user with just the rights its data types need.",
    )
    token_ids = fields.One2many(
        "sync.inbound.token",
        "system_id",
        string="Inbound Tokens",
        groups="sync_base.group_sync_manager",
    )
    binding_count = fields.Integer(compute="_compute_binding_count")
    note = fields.Html()

    compat.declare_constraints(locals(), [
        ("code_unique", "unique(code)", "The code of a system must be unique."),
        # the ranges of the numeric fields are python constraints (SYSTEM_RANGES), whose messages say the value
        # and the range: a failing SQL check would refuse a new system before them, with a vaguer message
    ])

    def _compute_binding_count(self):
        counts = dict(
            self.env["sync.binding"]._read_group([("system_id", "in", self.ids)], ["system_id"], ["__count"])
        )
        for system in self:
            system.binding_count = counts.get(system, 0)

    @api.constrains("code")
    def _check_code(self):
        for system in self:
            if not CODE_RE.match(system.code or ""):
                raise ValidationError(
                    _(
                        "The code %(code)r of system %(name)s is invalid: use lowercase letters, "
                        "digits, '_' and '-' only.",
                        code=system.code,
                        name=system.name,
                    )
                )

    @api.constrains(*SYSTEM_RANGES)
    def _check_numeric_ranges(self):
        self._check_ranges(SYSTEM_RANGES)

    def _check_ranges(self, ranges):
        """Raise a ``ValidationError`` for the first field of ``ranges`` ({field name: Range}) out of its range,
        naming the system, the field, the value and the range."""
        for system in self:
            for name, rng in ranges.items():
                if system[name] not in rng:
                    label = self._fields[name]._description_string(self.env)
                    raise ValidationError(self.env._(
                        "System %(system)s: %(problem)s",
                        system=system.display_name,
                        problem=range_message(self.env, label, system[name], rng),
                    ))

    @api.constrains("retry_delays")
    def _check_retry_delays(self):
        for system in self:
            try:
                parse_retry_delays(system.retry_delays)
            except RetryDelaysError as exc:
                raise ValidationError(
                    _("Retry delays of system %(name)s: %(error)s", name=system.name, error=exc)
                ) from None

    def _get_retry_delays(self):
        """The system's retry delays, in seconds, as a list."""
        self.ensure_one()
        return parse_retry_delays(self.retry_delays)

    @api.model
    def _get_own_code(self):
        """The code of this database: the ``source`` of every message it sends."""
        code = self.env["ir.config_parameter"].sudo().get_param(OWN_CODE_PARAM)
        if code:
            return code
        fallback = re.sub(r"[^a-z0-9_-]", "_", self.env.cr.dbname.lower())
        return fallback

    # ------------------------------------------------------------------
    # Inbound tokens
    # ------------------------------------------------------------------
    def _generate_inbound_token(self, name=None, expires_at=False):
        """Create a new inbound token for the system and return it in clear.

        The clear token exists only in the return value: it is stored hashed.
        """
        self.ensure_one()
        self.check_access("write")
        # whoever holds the token acts as the system's inbound user: never more than the one who generates it
        reason = self._power_beyond(self.env.user)
        if reason:
            raise AccessError(reason)
        token = token_lib.generate()
        self.env["sync.inbound.token"].sudo().create(
            {
                "system_id": self.id,
                "name": name or _("Token of %(date)s", date=fields.Date.to_string(fields.Date.today())),
                "prefix": token_lib.split_prefix(token),
                "token_hash": token_lib.hash_token(token),
                "expires_at": expires_at,
            }
        )
        self.message_post(body=_("An inbound token was generated."))
        return token

    def action_generate_inbound_token(self):
        """Generate an inbound token and show it once.

        The context may give ``sync_token_name`` and ``sync_token_expires_at``.
        """
        self.ensure_one()
        if not self.env.user.has_group("sync_base.group_sync_manager"):
            raise UserError(_("Only synchronization managers can generate inbound tokens."))
        token = self._generate_inbound_token(
            name=self.env.context.get("sync_token_name"),
            expires_at=self.env.context.get("sync_token_expires_at", False),
        )
        return {
            "type": "ir.actions.act_window",
            "name": _("Inbound Token"),
            "res_model": "sync.token.show",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_token": token, "default_system_name": self.display_name},
        }

    @api.model
    def _authenticate_inbound(self, code, token):
        """Return the system (possibly archived) whose code is ``code`` and that ``token`` opens.

        Returns an empty recordset for any mismatch: unknown code, unknown,
        expired or revoked token, or a token of another system.  The caller
        cannot tell these apart, by design.
        """
        systems = self.browse()
        prefix = token_lib.split_prefix(token)
        if not prefix or not isinstance(code, str):
            return systems
        candidates = (
            self.env["sync.inbound.token"]
            .sudo()
            .with_context(active_test=False)
            .search([("prefix", "=", prefix)])
        )
        now = fields.Datetime.now()
        for candidate in candidates:
            if (
                candidate.system_id.code == code
                and candidate.active
                and not candidate.revoked_at
                and (not candidate.expires_at or candidate.expires_at > now)
                and token_lib.verify(token, candidate.token_hash)
            ):
                return candidate.system_id.with_env(self.env)
        return systems

    # ------------------------------------------------------------------
    # Transport
    # ------------------------------------------------------------------
    def _check_transport(self):
        self.ensure_one()
        if not self.transport:
            raise UserError(
                _(
                    "System %(name)s has no transport: choose one, or install the addon of its transport.",
                    name=self.display_name,
                )
            )

    def _send_envelopes(self, envelopes):
        """Hand ``envelopes`` to the system's transport and return one result per envelope.

        Checks what the transport returns, so that the queue can trust it.
        """
        self._check_transport()
        if not envelopes:
            return []
        results = self.env["sync.transport"]._send(self, list(envelopes))
        return check_results(results, len(envelopes), self.transport)

    def _send_envelopes_deferred(self, envelopes):
        """What delivers ``envelopes`` in a worker thread (checked results), or None: see
        ``sync.transport._send_deferred``."""
        self._check_transport()
        work = self.env["sync.transport"]._send_deferred(self, list(envelopes)) if envelopes else None
        if work is None:
            return None
        count, transport = len(envelopes), self.transport

        def deliver():
            return check_results(work(), count, transport)

        return deliver

    def _get_targets(self):
        """The codes this system's envelopes are addressed to."""
        self._check_transport()
        return list(self.env["sync.transport"]._targets(self))

    def action_test_connection(self):
        """Ask the transport to ping the system and show the outcome as a notification."""
        self.ensure_one()
        try:
            self._check_transport()
            detail = self.env["sync.transport"]._ping(self)
        except (UserError, ValidationError) as exc:
            ok, detail = False, exc.args[0] if exc.args else str(exc)
        except NotImplementedError as exc:
            ok, detail = False, str(exc)
        except Exception as exc:
            _logger.info("Connection test of system %s failed", self.code, exc_info=True)
            ok, detail = False, _("%(error_type)s: %(error)s", error_type=type(exc).__name__, error=exc)
        else:
            ok = True
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Connection to %(name)s", name=self.display_name)
                + (_(" works") if ok else _(" failed")),
                "message": detail or _("The system answered."),
                "type": "success" if ok else "danger",
                "sticky": not ok,
            },
        }

    def action_view_bindings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("sync_base.sync_binding_action")
        action["domain"] = [("system_id", "=", self.id)]
        action["context"] = {"default_system_id": self.id}
        return action

    def _on_transport_uninstalled(self):
        """Called when the addon of these systems' transport is uninstalled: archive them, keep their queue."""
        self.with_context(active_test=False).write({"transport": False, "active": False})
