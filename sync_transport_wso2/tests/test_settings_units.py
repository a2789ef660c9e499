from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestWso2SettingsUnits(TransactionCase):
    def test_pool_size_out_of_range_names_the_field_the_value_and_the_range(self):
        system = self.env["sync.system"].create({"name": "Broker", "code": "broker_units", "transport": "wso2",
                                                 "wso2_url": "https://broker.example.com/sync"})
        for value in (0, 65):
            with self.subTest(value=value), self.assertRaises(ValidationError) as caught, self.env.cr.savepoint():
                system.wso2_pool_size = value
                system.flush_recordset()
            self.assertEqual(str(caught.exception), "System Broker: Broker Connections per Server Process must be "
                                                    f"between 1 and 64; you entered {value}.")
        for value in (1, 64):
            system.wso2_pool_size = value
            self.assertEqual(system.wso2_pool_size, value)
