from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields
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

    def _message(self, res_id, operation="upsert", data_type=None, system=None, **values):
        """A message of the partner ``res_id`` (to ``system``, by ``data_type``; the contacts' by default)."""
        vals = {"system_id": (system or self.system).id, "data_type_id": (data_type or self.contact_type).id,
                "model": "res.partner", "res_id": res_id, "operation": operation}
        vals.update(values)
        return self.env["sync.message"].create(vals)

    def _freeze_claimed(self, ids):
        """Freeze ``ids`` as the claim does: they are ``sending`` (claimed) first."""
        ids = list(ids)
        self.env["sync.message"].browse(ids).exists().write({"state": "sending"})
        self.env.flush_all()
        return self.env["sync.message"]._freeze_claimed(ids)

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


class CommittedCase(TransactionCase):
    """Steps in real transactions that commit (the test registry's cursor would serialize them), each in a cursor
    of its own: a test-transport system ``self.system_id``, a contacts data type, partners ``self.partner_ids``
    queued; all of it removed after the test."""

    PARTNERS = ("Racer",)

    def run_in_cursor(self, function):
        """``function(env)`` in a transaction of its own, committed: its ORM writes are flushed first (the cursor's
        commit flushes only the environments still alive, and ``function``'s may already be gone)."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            result = function(env)
            env.flush_all()
            return result

    def setUp(self):
        super().setUp()
        code = f"committed_{type(self).__name__.lower()}"

        def create(env):
            system = env["sync.system"].create({"name": code, "code": code, "transport": "test"})
            library = env["sync.library"].create({"name": code, "slug": code})
            data_type = env["sync.data.type"].create({
                "name": f"{code} contacts", "library_id": library.id,
                "model_id": env["ir.model"]._get("res.partner").id, "system_ids": [(6, 0, system.ids)],
                "sync_deletion": True,
                "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name", "primary": True})],
            })
            data_type.action_generate_schema()
            return system.id, library.id, data_type.id

        self.system_id, library_id, data_type_id = self.run_in_cursor(create)
        self.partner_ids = self.run_in_cursor(
            lambda env: env["res.partner"].create([{"name": name} for name in self.PARTNERS]).ids)

        def cleanup(env):
            cr = env.cr
            cr.execute("SELECT id FROM sync_message WHERE system_id = %s", [self.system_id])
            ids = [row[0] for row in cr.fetchall()]
            cr.execute("DELETE FROM sync_message_attempt WHERE message_id = ANY(%s)", [ids])
            cr.execute("DELETE FROM sync_response WHERE system_id = %s", [self.system_id])
            cr.execute("DELETE FROM sync_message WHERE id = ANY(%s)", [ids])
            cr.execute("DELETE FROM sync_test_transport_call WHERE system_id = %s", [self.system_id])
            cr.execute("DELETE FROM sync_binding WHERE system_id = %s", [self.system_id])
            cr.execute("DELETE FROM sync_change WHERE model = 'res.partner' AND res_id = ANY(%s)", [self.partner_ids])
            data_type = env["sync.data.type"].browse(data_type_id)
            schema = data_type.schema_id
            data_type.unlink()
            schema.unlink()
            env["sync.library"].browse(library_id).unlink()
            env["sync.system"].browse(self.system_id).unlink()
            env["res.partner"].browse(self.partner_ids).exists().unlink()
            cr.execute("DELETE FROM sync_change WHERE model = 'res.partner' AND res_id = ANY(%s)", [self.partner_ids])

        self.addCleanup(self.run_in_cursor, cleanup)
        self.run_in_cursor(lambda env: env["sync.message"]._cron_create_queue())
