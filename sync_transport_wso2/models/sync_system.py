import contextlib
import json
import os
import tempfile
import threading

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.sync_base.lib.ranges import Range

from ..lib.client import BrokerClient, Credentials

# {(database, system id): (configuration key, client, temporary files)}: connections kept per server process
_POOL = {}
_POOL_LOCK = threading.Lock()
CONFIG_FIELDS = ("wso2_url", "wso2_compare_url", "wso2_verify_tls", "wso2_ca_bundle", "wso2_client_cert",
                 "wso2_client_key", "wso2_headers", "wso2_auth", "wso2_username", "wso2_password", "wso2_token_url",
                 "wso2_client_id", "wso2_client_secret", "wso2_scope", "wso2_pool_size", "timeout", "active")
MANAGERS = "sync_base.group_sync_manager"
#: the valid range of the numeric fields of a WSO2 system
WSO2_RANGES = {
    "wso2_pool_size": Range(1, 64),
}


class SyncSystem(models.Model):
    _inherit = "sync.system"

    transport = fields.Selection(
        selection_add=[("wso2", "WSO2 Broker")],
        # Uninstalling the transport archives its systems and keeps their queue.
        ondelete={"wso2": lambda systems: systems._on_transport_uninstalled()},
    )
    wso2_url = fields.Char(string="Broker URL", tracking=True,
                           help="The WSO2 API or proxy service endpoint the envelopes are posted to.")
    wso2_compare_url = fields.Char(
        string="Comparison URL", tracking=True,
        help="The broker's comparison route (optional): comparisons post to <this URL>/digest and "
        "<this URL>/documents, which the broker relays to the receiving suite's /sync/<code>/digest and "
        "/documents, with the authentication, TLS, headers and timeout of the envelopes. Empty: this system "
        "cannot compare its records with the other side.")
    wso2_verify_tls = fields.Boolean(string="Verify the Broker Certificate", default=True, tracking=True)
    wso2_ca_bundle = fields.Text(string="CA Bundle (PEM)", groups=MANAGERS,
                                 help="Certificates to verify the broker with, instead of the system's.")
    wso2_client_cert = fields.Text(string="Client Certificate (PEM)", groups=MANAGERS,
                                   help="For mutual TLS: the certificate this database presents.")
    wso2_client_key = fields.Text(string="Client Key (PEM)", groups=MANAGERS, copy=False, exportable=False)
    # may hold an API key: neither copied nor exported
    wso2_headers = fields.Text(string="Extra Headers (JSON)", default="{}", copy=False, exportable=False,
                               help='Sent with every request, e.g. {"apikey": "..."}.', groups=MANAGERS)
    wso2_auth = fields.Selection(
        [("none", "None"), ("basic", "Basic"), ("oauth2", "OAuth2 Client Credentials")],
        string="Authentication", default="none", required=True, tracking=True,
    )
    wso2_username = fields.Char(string="Username", tracking=True)
    wso2_password = fields.Char(string="Password", groups=MANAGERS, copy=False, exportable=False)
    wso2_token_url = fields.Char(string="Token URL", tracking=True)
    wso2_client_id = fields.Char(string="Client ID", tracking=True)
    wso2_client_secret = fields.Char(string="Client Secret", groups=MANAGERS, copy=False, exportable=False)
    wso2_scope = fields.Char(string="Scope", tracking=True)
    wso2_batch = fields.Selection(
        [("single", "One envelope per request"), ("batch", "A batch per request (JSON array)")],
        string="Requests", default="single", required=True, tracking=True,
    )
    wso2_ack_mode = fields.Selection(
        [("sync", "Synchronous (a 2xx answer acknowledges)"),
         ("async", "Asynchronous (the broker posts acknowledgements to /sync/<code>/acks)")],
        string="Acknowledgements", default="sync", required=True, tracking=True,
    )
    wso2_targets = fields.Char(
        string="Downstream Targets", tracking=True,
        help="Codes the broker delivers to, comma-separated (default: this system's code): one message to the "
        "broker, broadcast to several.",
    )
    wso2_pool_size = fields.Integer(
        string="Broker Connections per Server Process", default=4, tracking=True,
        help="Connections to the broker kept open by each Odoo server process (1 to 64).",
    )

    @api.depends("wso2_compare_url", "wso2_targets")
    def _compute_compare_support(self):
        return super()._compute_compare_support()

    @api.constrains("transport", "wso2_url", "wso2_compare_url", "wso2_headers", "wso2_pool_size", "wso2_targets")
    def _check_wso2(self):
        for system in self.filtered(lambda s: s.transport == "wso2"):
            if system.wso2_url and not system.wso2_url.startswith(("http://", "https://")):
                raise ValidationError(_("System %(name)s: the broker URL must start with http:// or https://.",
                                        name=system.display_name))
            if system.wso2_compare_url and not system.wso2_compare_url.startswith(("http://", "https://")):
                raise ValidationError(_("System %(name)s: the comparison URL must start with http:// or https://.",
                                        name=system.display_name))
            system.sudo()._wso2_extra_headers()
            system._check_ranges(WSO2_RANGES)
            bad = [code for code in system._wso2_target_codes() if not code.replace("_", "").replace("-", "")
                   .isalnum()]
            if bad:
                raise ValidationError(_("System %(name)s: %(codes)s are not system codes.", name=system.display_name,
                                        codes=", ".join(bad)))

    def _wso2_extra_headers(self):
        """The extra headers as a dict of strings; raise ``ValidationError`` saying what is wrong."""
        self.ensure_one()
        try:
            headers = json.loads(self.wso2_headers or "{}")
        except ValueError as exc:
            raise ValidationError(_("System %(name)s: the extra headers are not JSON: %(error)s",
                                    name=self.display_name, error=exc)) from None
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise ValidationError(_('System %(name)s: the extra headers must be a JSON object of strings, e.g. '
                                    '{"apikey": "..."}.', name=self.display_name))
        return headers

    def _wso2_target_codes(self):
        self.ensure_one()
        return [code.strip() for code in (self.wso2_targets or "").split(",") if code.strip()]

    # ------------------------------------------------------------------
    # The connection pool
    # ------------------------------------------------------------------
    def _wso2_client(self):
        """The pooled client of this system, made again when its configuration changed."""
        self.ensure_one()
        system = self.sudo()
        key = (self.env.cr.dbname, self.id)
        config = tuple(system[name] for name in CONFIG_FIELDS)
        with _POOL_LOCK:
            entry = _POOL.get(key)
            if entry and entry[0] == config:
                return entry[1]
            if entry:
                _close_entry(entry)
            if not system.wso2_url:
                raise ValidationError(_("System %(name)s: the broker URL is not set.", name=self.display_name))
            credentials = Credentials(
                system.wso2_auth, username=system.wso2_username, password=system.wso2_password,
                token_url=system.wso2_token_url, client_id=system.wso2_client_id,
                client_secret=system.wso2_client_secret, scope=system.wso2_scope,
            )
            missing = credentials.missing()
            if missing:
                raise ValidationError(_("System %(name)s: %(auth)s authentication needs %(missing)s.",
                                        name=self.display_name, auth=system.wso2_auth,
                                        missing=", ".join("wso2_" + m for m in missing)))
            files = []
            verify = system.wso2_verify_tls
            if verify and system.wso2_ca_bundle:
                verify = _pem_file(system.wso2_ca_bundle, files)
            cert = None
            if system.wso2_client_cert:
                cert = (_pem_file(system.wso2_client_cert, files),
                        _pem_file(system.wso2_client_key, files) if system.wso2_client_key else None)
                cert = cert if cert[1] else cert[0]
            client = BrokerClient(system.wso2_url, system.timeout or 30.0, credentials=credentials, verify=verify,
                                  cert=cert, headers=system._wso2_extra_headers(), pool_size=system.wso2_pool_size,
                                  compare_url=system.wso2_compare_url or None)
            _POOL[key] = (config, client, files)
            return client

    def _wso2_close(self):
        """Close the pooled connections of these systems and remove their certificate files."""
        with _POOL_LOCK:
            for system in self:
                entry = _POOL.pop((self.env.cr.dbname, system.id), None)
                if entry:
                    _close_entry(entry)

    def write(self, vals):
        result = super().write(vals)
        if "active" in vals and not vals["active"]:
            self._wso2_close()
        return result

    def unlink(self):
        self._wso2_close()
        return super().unlink()


def _pem_file(text, files):
    """Write PEM text to a file only this process's user can read (requests takes paths); return its path."""
    handle, path = tempfile.mkstemp(prefix="sync-wso2-", suffix=".pem")
    with os.fdopen(handle, "w") as stream:
        stream.write(text)
    files.append(path)
    return path


def _close_entry(entry):
    entry[1].close()
    for path in entry[2]:
        with contextlib.suppress(OSError):
            os.unlink(path)
