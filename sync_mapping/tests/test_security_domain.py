import xmlrpc.client

from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import config, mute_logger

from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.sync_base import compat
from odoo.addons.sync_base.tests import series

# the three exploits of the outside review, as a Synchronization manager typed them
EXPLOIT_ADMIN = "[('id', '!=', user.env.ref('base.group_system').write({'users': [(4, user.id)]}) and 0)]"
EXPLOIT_SECRET = "[(user.env['ir.config_parameter'].get_param('database.secret'), '=', 1)]"
EXPLOIT_FORMAT = "[('{0.env.cr._cnx.info.password}'.format(user), '=', 1)]"


@tagged("post_install", "-at_install")
class TestSecurityDomain(series.AllowAllRequests, HttpCase):
    """A data type's domain is plain values only, and names only what its author may read (issue 25, hole 1)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.password = "dom_manager_password"
        cls.manager = mail_new_test_user(cls.env, login="dom_manager", password=cls.password,
                                         groups="base.group_user,sync_base.group_sync_manager")
        library = cls.env["sync.library"].create({"name": "Domains", "slug": "domains"})
        cls.partner_type = cls.env["sync.data.type"].create({
            "name": "Domain Partners", "library_id": library.id,
            "model_id": cls.env["ir.model"]._get("res.partner").id,
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"})],
        })
        cls.token_type = cls.env["sync.data.type"].create({
            "name": "Domain Tokens", "library_id": library.id,
            "model_id": cls.env["ir.model"]._get("sync.inbound.token").id,
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"})],
        })
        cls.secret = cls.env["ir.config_parameter"].sudo().get_param("database.secret")

    def setUp(self):
        super().setUp()
        # not self.uid: its setter would make self.env the manager's
        self.manager_uid = self.xmlrpc_common.authenticate(self.env.cr.dbname, "dom_manager", self.password, {})
        self.assertTrue(self.manager_uid)

    def rpc(self, model, method, *args):
        return self.xmlrpc_object.execute_kw(self.env.cr.dbname, self.manager_uid, self.password, model, method,
                                             list(args))

    def write_domain(self, data_type, domain):
        return self.rpc("sync.data.type", "write", [data_type.id], {"domain": domain})

    def assertRefused(self, data_type, domain, *parts):
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.write_domain(data_type, domain)
        fault = caught.exception.faultString
        for part in parts:
            self.assertIn(part, fault)
        self.assertNotIn(self.secret, fault)
        if config.get("db_password"):
            self.assertNotIn(config["db_password"], fault)
        data_type.invalidate_recordset()
        self.assertEqual(data_type.domain, "[]", "the domain is not written")
        return fault

    def assertNotAdministrator(self):
        self.env.invalidate_all()
        for xmlid in ("base.group_system", "base.group_erp_manager"):
            self.assertNotIn(self.env.ref(xmlid), compat.all_groups(self.manager))
            self.assertFalse(self.manager.has_group(xmlid))

    # ------------------------------------------------------------------
    # the exploits
    # ------------------------------------------------------------------
    def test_a_manager_does_not_become_administrator(self):
        self.assertNotAdministrator()
        self.assertRefused(self.partner_type, EXPLOIT_ADMIN, "the name 'user' is not allowed", "line 1, column 15")
        self.assertNotAdministrator()

    def test_a_manager_does_not_read_the_database_secret(self):
        self.assertRefused(self.partner_type, EXPLOIT_SECRET, "the name 'user' is not allowed", "line 1, column 3")
        self.assertNotAdministrator()

    def test_a_manager_does_not_format_a_record(self):
        self.assertRefused(self.partner_type, EXPLOIT_FORMAT, "the attribute 'format' is not allowed")

    def test_a_domain_on_a_secret_field_is_refused(self):
        fault = self.assertRefused(self.token_type, "[('token_hash', '=like', 'a%')]", "leaf 1 (token_hash",
                                   "holds credentials")
        self.assertNotIn("a%", fault.split("token_hash", 1)[1])
        # through a relation too, and inside an 'any'
        system_type = self.token_type.copy({"name": "Domain Systems",
                                            "model_id": self.env["ir.model"]._get("sync.system").id})
        self.assertRefused(system_type, "[('token_ids', 'any', [('token_hash', '!=', False)])]", "token_ids")
        # a field that cannot be searched is refused too: Odoo would drop the leaf and select every record
        self.assertRefused(self.partner_type, "[('name', '!=', False), ('user_ids.password', '!=', False)]",
                           "leaf 2 (user_ids.password", "password of res.users cannot be searched")

    def test_a_condition_on_a_secret_field_is_refused(self):
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.rpc("sync.condition", "create", {"data_type_id": self.token_type.id, "field_name": "token_hash",
                                                  "operator": "=", "value": "x"})
        self.assertIn("token_hash", caught.exception.faultString)
        self.assertIn("holds credentials", caught.exception.faultString)
        self.assertFalse(self.token_type.condition_ids)

    @mute_logger("odoo.sql_db")
    def test_errors_of_the_database_are_not_echoed(self):
        fault = self.assertRefused(self.partner_type, "[('name', '!=', False), ('create_date', '>=', 'n0t-a-d4te')]",
                                   "leaf 2 (create_date, at line 1, column 25)")
        self.assertNotIn("n0t-a-d4te", fault)
        fault = self.assertRefused(self.partner_type, "[('create_date', '=', datetime.date(2024, 13, 1))]",
                                   "cannot be evaluated")
        self.assertNotIn("month", fault)

    def test_a_domain_saved_before_the_check_is_refused_when_used(self):
        self.env.cr.execute("UPDATE sync_data_type SET domain = %s WHERE id = %s",
                            [EXPLOIT_ADMIN, self.partner_type.id])
        self.partner_type.invalidate_recordset()
        with self.assertRaisesRegex(ValidationError, "the name 'user' is not allowed"):
            self.partner_type.with_user(self.manager)._filter_matching(self.env["res.partner"].search([], limit=1))
        self.assertNotAdministrator()

    # ------------------------------------------------------------------
    # plain domains
    # ------------------------------------------------------------------
    def test_plain_domains_select_the_right_records(self):
        Partner = self.env["res.partner"]
        main = self.env.company
        other = self.env["res.company"].create({"name": "Domain Other Company"})
        company = Partner.create({"name": "Dom Company", "is_company": True, "company_id": main.id})
        person = Partner.create({"name": "Dom Person", "company_id": other.id, "user_id": self.manager.id})
        nobody = Partner.create({"name": "Dom Nobody"})
        old = Partner.create({"name": "Dom Old", "is_company": True})
        self.env.flush_all()
        self.env.cr.execute("UPDATE res_partner SET create_date = now() - interval '60 days' WHERE id = %s",
                            [old.id])
        old.invalidate_recordset()
        records = company | person | nobody | old
        data_type = self.partner_type.with_context(allowed_company_ids=[main.id])

        self.write_domain(self.partner_type, "[('is_company', '=', True)]")
        self.assertEqual(data_type._filter_matching(records), company | old)

        self.write_domain(self.partner_type, "[('company_id', 'in', company_ids)]")
        self.assertEqual(data_type._filter_matching(records), company)
        self.assertEqual(self.partner_type.with_context(allowed_company_ids=[other.id])._filter_matching(records),
                         person)
        self.write_domain(self.partner_type, "[('company_id', 'in', company_ids + [False])]")
        self.assertEqual(data_type._filter_matching(records), company | nobody | old)

        self.write_domain(self.partner_type, "[('create_date', '>=', (context_today() - relativedelta(days=30))"
                                             ".strftime('%Y-%m-%d'))]")
        self.assertEqual(data_type._filter_matching(records), company | person | nobody)
        self.write_domain(self.partner_type, "['!', ('create_date', '>=', now - datetime.timedelta(days=30))]")
        self.assertEqual(data_type._filter_matching(records), old)

        self.write_domain(self.partner_type, "[('user_id', '=', uid)]")
        self.assertEqual(data_type.with_user(self.manager)._filter_matching(records), person)
        self.assertFalse(data_type._filter_matching(records), "uid is the user evaluating the domain")
