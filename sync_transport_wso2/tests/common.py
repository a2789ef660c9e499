import datetime
import ipaddress
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

from odoo.tests import HttpCase

from odoo.addons.sync_base.tests import series

BROKER = Path(__file__).with_name("broker_server.py")


def start_broker(*args):
    """Start the test broker (a real HTTP server on loopback) in its own process; ``(process, port)``."""
    process = subprocess.Popen([sys.executable, str(BROKER), "--port", "0", *args], stdout=subprocess.PIPE,
                               text=True)
    line = process.stdout.readline()
    if not line.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"the test broker did not start: {line!r}")
    return process, int(line.split()[-1])


def stop_broker(process):
    """Stop a test broker and reap it: a process left a zombie is reported (and killed again) by Odoo 19.0."""
    process.kill()
    process.wait(timeout=30)
    process.stdout.close()


def make_certificates(directory):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files in ``directory``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(common):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def issue(subject, key, issuer, issuer_key, ca=False, san=None):
        builder = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    def pem_key(key):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()

    def pem_cert(cert):
        return cert.public_bytes(serialization.Encoding.PEM).decode()

    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _i in range(3))
    ca = issue("Test CA", ca_key, "Test CA", ca_key, ca=True)
    server = issue("127.0.0.1", server_key, "Test CA", ca_key,
                   san=[x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")])
    client = issue("odoo client", client_key, "Test CA", ca_key)
    files = {"ca": pem_cert(ca), "server_cert": pem_cert(server), "server_key": pem_key(server_key),
             "client_cert": pem_cert(client), "client_key": pem_key(client_key)}
    paths = {}
    for label, text in files.items():
        path = Path(directory) / f"{label}.pem"
        path.write_text(text)
        paths[label] = str(path)
    return files, paths


class BrokerCase(series.AllowAllRequests, HttpCase):
    """A WSO2 system pointing at a test broker running in its own process."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.broker, cls.broker_port = start_broker()
        cls.addClassCleanup(stop_broker, cls.broker)
        cls.broker_url = f"http://127.0.0.1:{cls.broker_port}"
        cls.system = cls.env["sync.system"].create({
            "name": "Broker", "code": "broker", "transport": "wso2", "wso2_url": f"{cls.broker_url}/services/sync",
            "timeout": 10, "retry_delays": "60", "max_attempts": 5,
        })
        cls.tmp = tempfile.TemporaryDirectory()
        cls.addClassCleanup(cls.tmp.cleanup)

    def setUp(self):
        super().setUp()
        self.control(script=[], mode="sync", refuse={}, require_token=False, relay=None, ack=None, reset_log=True)

    def control(self, **settings):
        requests.post(f"{self.broker_url}/_control", json=settings, timeout=10).raise_for_status()

    def broker_log(self):
        return requests.get(f"{self.broker_url}/_log", timeout=10).json()

    def envelope(self, index=0, **values):
        return {"id": f"00000000-0000-4000-8000-{index:012d}", "type": "contacts.partner", "operation": "upsert",
                "source": "here", "targets": ["shop_eu", "shop_us"], "record": {"model": "res.partner", "id": index},
                "created_at": "2026-11-23T08:00:00Z", "version": 1, "payload": {"name": f"P{index}"}, **values}

    def queue_partners(self, names):
        """Messages of new partners ``names`` to the broker system, alone in the queue."""
        data_type = self.env["sync.data.type"].create({
            "name": "Contacts", "library_id": self.env["sync.library"].create({"name": "L", "slug": "broker_l"}).id,
            "model_id": self.env["ir.model"]._get("res.partner").id, "system_ids": [(6, 0, self.system.ids)],
            "trigger": "manual", "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"})],
        })
        data_type.action_generate_schema()
        self.env["sync.message"].search([]).unlink()
        partners = self.env["res.partner"].create([{"name": name} for name in names])
        self.env["sync.message"]._queue_records(data_type, partners, "upsert")
        return partners

    def send(self, envelopes):
        return self.env["sync.transport"]._send(self.system, envelopes)

    @staticmethod
    def body(entry):
        return json.loads(entry["body"])
