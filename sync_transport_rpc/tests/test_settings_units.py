from lxml import etree

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..models.sync_system import RPC_RANGES
from .common import RpcCase


@tagged("post_install", "-at_install")
class TestRpcSettingsUnits(RpcCase):
    system_code = "rpc_units"

    def test_numeric_fields_out_of_range_name_the_field_the_value_and_the_range(self):
        cases = [
            ("rpc_port", 0, "Port must be between 1 and 65535; you entered 0."),
            ("rpc_port", 65536, "Port must be between 1 and 65535; you entered 65536."),
            ("rpc_pool_size", 65, "Connections per Server Process must be between 1 and 64; you entered 65."),
            ("rpc_pull_overlap", -1, "Pull Overlap (seconds) must be between 0 and 86400; you entered -1."),
            ("rpc_sweep_size", 0,
             "Deletion Sweep Size (records) must be between 1 and 100000; you entered 0."),
        ]
        for name, value, message in cases:
            with (self.subTest(field=name, value=value), self.assertRaises(ValidationError) as caught,
                      self.env.cr.savepoint()):
                self.system.write({name: value})
            self.assertEqual(str(caught.exception), f"System Remote: {message}")
        for name, rng in RPC_RANGES.items():
            for value in (rng.low, rng.high):
                self.system.write({name: value})
                self.assertEqual(self.system[name], value)

    def test_port_is_shown_without_thousands_separator(self):
        arch = self.env["sync.system"].get_views([(False, "form")])["views"]["form"]["arch"]
        port = etree.fromstring(arch).xpath("//field[@name='rpc_port']")
        self.assertEqual(len(port), 1)
        self.assertEqual(port[0].get("options").replace(" ", ""), "{'enable_formatting':False}")

    def test_duration_labels_give_units(self):
        fields = self.env["sync.system"].fields_get(["rpc_pull_overlap", "rpc_sweep_size"], ["string"])
        self.assertEqual(fields["rpc_pull_overlap"]["string"], "Pull Overlap (seconds)")
        self.assertEqual(fields["rpc_sweep_size"]["string"], "Deletion Sweep Size (records)")
