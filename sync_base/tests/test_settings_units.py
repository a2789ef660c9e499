from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..lib.ranges import Range, read_stored
from ..models.sync_system import SYSTEM_RANGES, range_message
from .common import SyncCase


@tagged("post_install", "-at_install")
class TestSystemRanges(SyncCase):
    """Every numeric field of a system is refused out of its range, with a message naming it, the value and the
    range; the bounds themselves are accepted."""

    def test_out_of_range_is_refused_with_the_field_the_value_and_the_range(self):
        system = self._create_system("ranges")
        cases = [
            ("batch_size", 0, "Batch Size (messages) must be between 1 and 1000; you entered 0."),
            ("batch_size", 1001, "Batch Size (messages) must be between 1 and 1000; you entered 1001."),
            ("max_attempts", 0, "Maximum Attempts must be between 1 and 100; you entered 0."),
            ("max_attempts", 101, "Maximum Attempts must be between 1 and 100; you entered 101."),
            ("timeout", 0.05, "Timeout (seconds) must be between 0.1 and 600; you entered 0.05."),
            ("timeout", 601, "Timeout (seconds) must be between 0.1 and 600; you entered 601."),
            ("ack_timeout", -1, "Acknowledgement Timeout (seconds) must be between 1 and 86400; you entered -1."),
            ("ack_timeout", 86401,
             "Acknowledgement Timeout (seconds) must be between 1 and 86400; you entered 86401."),
        ]
        for name, value, message in cases:
            before = system[name]
            with (self.subTest(field=name, value=value), self.assertRaises(ValidationError) as caught,
                      self.env.cr.savepoint()):
                system.write({name: value})
            self.assertEqual(str(caught.exception), f"System Ranges: {message}")
            system.invalidate_recordset()
            self.assertEqual(system[name], before, "a refused value is not kept")

    def test_bounds_are_accepted(self):
        system = self._create_system("bounds")
        for name, rng in SYSTEM_RANGES.items():
            for value in (rng.low, rng.high):
                with self.subTest(field=name, value=value):
                    system.write({name: value})
                    system.flush_recordset()
                    self.assertEqual(system[name], value)

    def test_a_new_system_out_of_range_gets_the_same_message(self):
        # no SQL check answers first with a vaguer message
        with self.assertRaisesRegex(ValidationError, r"Batch Size \(messages\) must be between 1 and 1000; "
                                                     r"you entered 0\."):
            self._create_system("new_bad", batch_size=0)

    def test_labels_give_units(self):
        labels = {name: field["string"] for name, field in self.env["sync.system"].fields_get(
            ["timeout", "ack_timeout", "retry_delays", "batch_size"], ["string"]).items()}
        self.assertEqual(labels["timeout"], "Timeout (seconds)")
        self.assertEqual(labels["ack_timeout"], "Acknowledgement Timeout (seconds)")
        self.assertEqual(labels["retry_delays"], "Retry Delays (seconds)")
        self.assertEqual(labels["batch_size"], "Batch Size (messages)")
        helps = self.env["sync.system"].fields_get(list(SYSTEM_RANGES), ["help"])
        for name, rng in SYSTEM_RANGES.items():
            with self.subTest(field=name):
                self.assertIn(f"{rng.low} to {rng.high}", helps[name]["help"], "the help documents the range")

    def test_range_messages_and_stored_values(self):
        self.assertEqual(range_message(self.env, "Days", -1, Range(1)), "Days must be at least 1; you entered -1.")
        self.assertEqual(range_message(self.env, "Share", 101, Range(None, 100)),
                         "Share must be at most 100; you entered 101.")
        self.assertEqual(range_message(self.env, "Timeout", 30.0, Range(1, 10)),
                         "Timeout must be between 1 and 10; you entered 30.")
        days = Range(1, None, 30)
        self.assertEqual(read_stored("7", days), (7, None))
        self.assertEqual(read_stored(False, days), (30, None))
        self.assertEqual(read_stored("-1", days), (30, "out_of_range"))
        self.assertEqual(read_stored("abc", days), (30, "not_a_number"))
        self.assertEqual(read_stored("2.5", days), (30, "not_a_number"))
        self.assertEqual(read_stored("nan", days), (30, "not_a_number"))
        self.assertEqual(read_stored("0.5", Range(0.1, 1, 0.2), kind=float), (0.5, None))
