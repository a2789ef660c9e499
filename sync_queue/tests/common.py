from datetime import timedelta

from odoo import fields
from odoo.tests import TransactionCase

from odoo.addons.sync_base.tests import series


class QueueCase(TransactionCase):
    """Partners mapped to a test-transport system; the registry in test mode so claims share the test cursor."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.system = cls.env["sync.system"].create(
            {"name": "Target", "code": "target", "transport": "test", "retry_delays": "60,300", "max_attempts": 3}
        )
        cls.library = cls.env["sync.library"].create({"name": "Contacts", "slug": "contacts"})
        Model = cls.env["ir.model"]
        cls.contact_type = cls.env["sync.data.type"].create({
            "name": "Contacts", "library_id": cls.library.id, "model_id": Model._get("res.partner").id,
            "system_ids": [(6, 0, cls.system.ids)], "sync_deletion": True,
            "domain": "[('is_company', '=', False)]",
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True}),
                         (0, 0, {"line_type": "field", "value": "email", "name": "email"})],
        })
        cls.contact_type.action_generate_schema()
        cls.partner = cls.env["res.partner"].create({"name": "Brandon", "email": "b@example.com"})
        cls.env.cr.precommit.clear()
        cls.env["sync.change"].search([]).unlink()

    def setUp(self):
        super().setUp()
        series.enter_registry_test_mode(self)

    def commit(self):
        """What a commit does to the outbox: run the precommit hooks."""
        self.env.flush_all()
        self.env.cr.precommit.run()

    def changes(self):
        return self.env["sync.change"].search([])

    def messages(self, **domain):
        return self.env["sync.message"].search([(k, "=", v) for k, v in domain.items()], order="id")

    def queue(self):
        self.commit()
        self.env["sync.message"]._cron_create_queue()
        self.env.invalidate_all()

    def send(self):
        self.env["sync.message"]._cron_send()
        self.env.invalidate_all()

    def _queued(self):
        """The partner's message, queued after a change of its email."""
        self.partner.email = "queued@example.com"
        self.queue()
        return self.messages(res_id=self.partner.id)

    def _company_referenced_by_contacts(self):
        """A company data type, contacts referencing their company; a company queued."""
        company_type = self.env["sync.data.type"].create({
            "name": "Companies", "library_id": self.library.id,
            "model_id": self.env["ir.model"]._get("res.partner").id, "system_ids": [(6, 0, self.system.ids)],
            "domain": "[('is_company', '=', True)]",
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True})],
        })
        company_type.action_generate_schema()
        self.contact_type.line_ids = [(0, 0, {"line_type": "reference", "value": "parent_id", "name": "parent"})]
        self.contact_type.action_generate_schema()
        company = self.env["res.partner"].create({"name": "Parent Co", "is_company": True})
        self.queue()
        return company

    def send_through_a_failure(self):
        """Send what is due through one transient failure: each message is done with that failure in its
        attempt log (a delivered attempt leaves no row of its own)."""
        outcome = self.system.test_outcome or "acknowledged"
        self.system.test_outcome = "transient"
        self.send()
        self.env["sync.message"].search([("system_id", "=", self.system.id), ("state", "=", "retry")]).write(
            {"next_attempt_at": fields.Datetime.now() - timedelta(seconds=1)})
        self.system.test_outcome = outcome
        self.send()
