from odoo import fields, models


class SyncSystem(models.Model):
    _inherit = "sync.system"

    transport = fields.Selection(
        # "test_incomplete" implements no hook, to test the error a half-written transport gives.
        selection_add=[("test", "Test"), ("test_incomplete", "Test (no hooks)")],
        ondelete={
            "test": lambda systems: systems._on_transport_uninstalled(),
            "test_incomplete": lambda systems: systems._on_transport_uninstalled(),
        },
    )
    test_outcome = fields.Selection(
        [
            ("acknowledged", "Acknowledge"),
            ("accepted", "Accept, acknowledge later"),
            ("transient", "Transient failure"),
            ("permanent", "Permanent failure"),
            ("raise", "Raise an exception"),
        ],
        default="acknowledged",
        help="What the test transport answers for every envelope.",
    )
    test_delay = fields.Float(help="Seconds the test transport takes per call (a slow or hanging receiver).")
    test_record_calls = fields.Boolean(default=True, help="Record every envelope (off for benchmarks).")
    test_retry_after = fields.Float(help="Retry-After of transient failures, in seconds (0: none).")
    test_kill_marker = fields.Char(
        help="An envelope whose record is named with this text kills the process that sends it (SIGKILL), "
        "as a record that exhausts a worker's memory would.",
    )
    test_ping_error = fields.Char(help="When set, the connection test fails with this reason.")
    test_secret = fields.Char(groups="sync_base.group_sync_manager", help="A credential, readable by managers only.")
