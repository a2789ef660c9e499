"""The access matrix of the WSO2 transport (issue 25): see ``sync_base/tests/test_access_matrix.py``.

The broker password, the OAuth2 client secret, the TLS client key and the
extra headers (which may carry an API key) are credentials: managers of the
system's company read and write them; nobody exports, copies or tracks them.
The certificates are not secret but configuration of managers alike.
"""

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from odoo.addons.sync_base.tests.test_access_matrix import (
    MANAGERS,
    MANAGERS_ANY,
    NOBODY,
    SYNC,
    AccessMatrixMixin,
)

SECRETS = {"wso2_password": "br0ker-pw", "wso2_client_secret": "cl1ent-secret",
           "wso2_client_key": "-----BEGIN PRIVATE KEY-----\nk3y\n-----END PRIVATE KEY-----",
           "wso2_headers": '{"apikey": "ap1-key"}'}


@tagged("post_install", "-at_install")
class TestAccessMatrix(AccessMatrixMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls._setup_matrix_roles()
        cls.system = cls.env["sync.system"].create({
            "name": "Broker", "code": "matrix_wso2", "transport": "wso2", "wso2_url": "http://127.0.0.1:9/api",
            "wso2_auth": "basic", "wso2_username": "sync", "company_id": cls.matrix_company.id,
            "wso2_client_cert": "-----BEGIN CERTIFICATE-----\ncert\n-----END CERTIFICATE-----", **SECRETS,
        })
        cls.targets = {"system": cls.system}

    def test_credentials(self):
        rows = []
        for secret in SECRETS:
            rows += [
                ("system", secret, "read", MANAGERS),
                ("system", secret, "search", MANAGERS),
                ("system", secret, "fields_get", MANAGERS_ANY),
                ("system", secret, "export", NOBODY),
            ]
        rows += [
            ("system", "wso2_password", "read_group", MANAGERS),
            ("system", "wso2_password", "write", MANAGERS, "changed"),
            ("system", "wso2_headers", "write", MANAGERS, '{"apikey": "other"}'),
            ("system", "wso2_client_cert", "read", MANAGERS),
            ("system", "wso2_client_cert", "fields_get", MANAGERS_ANY),
            ("system", "wso2_username", "read", SYNC),
            ("system", "wso2_url", "write", MANAGERS, "https://broker.example.com/api"),
        ]
        self.assert_matrix(rows, self.targets)

    def test_a_copied_system_carries_no_credential(self):
        copy = self.system.with_user(self.roles["manager"]).copy({"code": "matrix_wso2_copy"}).sudo()
        for secret, value in SECRETS.items():
            with self.subTest(secret=secret):
                self.assertNotEqual(copy[secret], value)

    def test_credentials_are_never_copied_tracked_or_shown_to_others(self):
        self.assert_secrets_stay_put()

    def test_a_credential_error_names_no_secret(self):
        """A refused header value is reported by where it is, never by what it holds."""
        with self.assertRaises(ValidationError) as caught:
            self.system.with_user(self.roles["manager"]).write({"wso2_headers": '{"apikey": "s3cret", }'})
        self.assertNotIn("s3cret", str(caught.exception))
