import threading

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.sync_base.lib.ranges import Range

from ..lib.client import PROTOCOLS, OdooRpcClient

# {(database, system id): (configuration key, client)}: connections kept per server process
_POOL = {}
_POOL_LOCK = threading.Lock()
CONFIG_FIELDS = ("rpc_protocol", "rpc_host", "rpc_port", "rpc_database", "rpc_login", "rpc_password",
                 "rpc_verify_tls", "rpc_pool_size", "timeout", "active")
#: the valid range of the numeric fields of an RPC system
RPC_RANGES = {
    "rpc_port": Range(1, 65535),
    "rpc_pool_size": Range(1, 64),
    "rpc_pull_overlap": Range(0, 86400),
    "rpc_sweep_size": Range(1, 100000),
}


class SyncSystem(models.Model):
    _inherit = "sync.system"

    transport = fields.Selection(
        selection_add=[("rpc", "Odoo RPC")],
        # Uninstalling the transport archives its systems and keeps their queue.
        ondelete={"rpc": lambda systems: systems._on_transport_uninstalled()},
    )
    rpc_protocol = fields.Selection(
        [("xmlrpc", "XML-RPC"), ("xmlrpcs", "XML-RPCS (TLS)"), ("jsonrpc", "JSON-RPC"),
         ("jsonrpcs", "JSON-RPCS (TLS)"), ("json2", "JSON-2 (Odoo 19+)"), ("json2s", "JSON-2S (Odoo 19+, TLS)")],
        string="Protocol", default="jsonrpcs", tracking=True,
        help="JSON-2 is the API of Odoo 19 and later (XML-RPC and JSON-RPC are deprecated there); it needs an API "
             "key, not a password.",
    )
    rpc_host = fields.Char(string="Host", tracking=True)
    rpc_port = fields.Integer(string="Port", default=443, tracking=True, help="1 to 65535; 443 for HTTPS.")
    rpc_database = fields.Char(string="Database", tracking=True)
    rpc_login = fields.Char(string="Login", tracking=True)
    rpc_password = fields.Char(
        string="Password or API Key", groups="sync_base.group_sync_manager", copy=False, exportable=False,
        help="Sent with every call; an API key of an ordinary internal user is enough.",
    )
    rpc_verify_tls = fields.Boolean(string="Verify TLS Certificate", default=True, tracking=True)
    rpc_pool_size = fields.Integer(string="Connections per Server Process", default=4, tracking=True,
                                   help="Connections to the remote kept open by each Odoo server process (1 to 64).")
    rpc_mode = fields.Selection(
        [("plain", "Plain Odoo (ordinary RPC calls)"), ("suite", "Suite (the remote runs this suite)")],
        string="Mode", default="plain", required=True, tracking=True,
    )
    rpc_remote_token = fields.Char(
        string="Remote Inbound Token", groups="sync_base.group_sync_manager", copy=False, exportable=False,
        help="Suite mode: the token the remote database generated for this database's code.",
    )

    rpc_pull_overlap = fields.Integer(
        string="Pull Overlap (seconds)", default=300, tracking=True,
        help="Pulls read again the changes of this many seconds before the last one read: a remote transaction "
        "that commits late carries an earlier write date. Records read twice are applied once (0 to 86400).",
    )
    rpc_sweep_size = fields.Integer(
        string="Deletion Sweep Size (records)", default=1000, tracking=True,
        help="Pulled records checked for deletion on the remote per run and data type (1 to 100000).",
    )
    rpc_watermark_ids = fields.One2many("sync.rpc.watermark", "system_id", string="Pull Watermarks")

    @api.constrains("transport", "rpc_host", "rpc_port", "rpc_pool_size", "rpc_protocol", "rpc_pull_overlap",
                    "rpc_sweep_size")
    def _check_rpc(self):
        for system in self.filtered(lambda s: s.transport == "rpc"):
            if system.rpc_protocol not in PROTOCOLS:
                raise ValidationError(_("System %(name)s: choose an RPC protocol.", name=system.display_name))
            system._check_ranges(RPC_RANGES)

    # ------------------------------------------------------------------
    # The connection pool
    # ------------------------------------------------------------------
    def _rpc_config(self):
        self.ensure_one()
        system = self.sudo()
        return tuple(system[name] for name in CONFIG_FIELDS)

    def _rpc_client(self):
        """The pooled client of this system, made again when its configuration changed."""
        self.ensure_one()
        key = (self.env.cr.dbname, self.id)
        config = self._rpc_config()
        with _POOL_LOCK:
            entry = _POOL.get(key)
            if entry and entry[0] == config:
                return entry[1]
            if entry:
                entry[1].close()
            system = self.sudo()
            missing = [label for name, label in (("rpc_host", _("host")), ("rpc_database", _("database")),
                                                 ("rpc_login", _("login")), ("rpc_password", _("password")))
                       if not system[name]]
            if missing:
                raise ValidationError(_("System %(name)s: the RPC %(missing)s is not set.", name=self.display_name,
                                        missing=", ".join(missing)))
            client = OdooRpcClient(
                system.rpc_protocol, system.rpc_host, system.rpc_port, system.rpc_database, system.rpc_login,
                system.rpc_password, timeout=system.timeout or 30.0, verify_tls=system.rpc_verify_tls,
                pool_size=system.rpc_pool_size,
            )
            _POOL[key] = (config, client)
            return client

    def _rpc_close(self):
        """Close the pooled connections of these systems (archived, deleted or reconfigured)."""
        with _POOL_LOCK:
            for system in self:
                entry = _POOL.pop((self.env.cr.dbname, system.id), None)
                if entry:
                    entry[1].close()

    def write(self, vals):
        result = super().write(vals)
        if "active" in vals and not vals["active"]:
            self._rpc_close()
        return result

    def unlink(self):
        self._rpc_close()
        return super().unlink()
