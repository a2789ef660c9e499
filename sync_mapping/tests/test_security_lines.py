"""Mapping lines name only what the person saving them may read; code lines never write (issue 25, holes 2 and 4).

Documents are built as the superuser and read by every synchronization user:
a line that names a secret would carry it out of the database.  Managers are
tested over XML-RPC, as an attacker would work; code lines, written by
administrators, are refused at save when they call anything that acts, and
fail at evaluation, without changing anything, when they write anyway.
"""

import base64
import json
from xmlrpc.client import Fault

from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.sync_base.tests import series

MANAGER_PASSWORD = "lines-manager-pw-25"


class LinesCase(TransactionCase):
    def assertRefusedWith(self, pattern, func, *args):
        """``func(*args)`` raises a ValidationError matching ``pattern``; what it did is rolled back."""
        with self.assertRaises(ValidationError) as caught:
            func(*args)
        self.assertRegex(str(caught.exception), pattern)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.manager = mail_new_test_user(cls.env, login="lines_manager", password=MANAGER_PASSWORD,
                                         groups="base.group_user,sync_base.group_sync_manager")
        cls.admin = cls.env.ref("base.user_admin")
        cls.library = cls.env["sync.library"].create({"name": "Security", "slug": "security_lines"})
        cls.partner_type = cls._data_type("Partners", "res.partner", [("field", "name", "name")])
        cls.user_type = cls._data_type("Users", "res.users", [("field", "login", "login")])
        cls.country_type = cls._data_type("Countries", "res.country", [("field", "code", "code")])

    @classmethod
    def _data_type(cls, name, model, lines):
        data_type = cls.env["sync.data.type"].create({
            "name": name,
            "library_id": cls.library.id,
            "model_id": cls.env["ir.model"]._get(model).id,
            "line_ids": [(0, 0, {"line_type": t, "value": v, "name": n}) for t, v, n in lines],
        })
        data_type.action_generate_schema()
        return data_type


@tagged("post_install", "-at_install")
class TestManagerLinesOverRpc(series.AllowAllRequests, HttpCase, LinesCase):
    """A manager who is no administrator saves lines through XML-RPC: secrets are refused, naming field and why."""

    def rpc(self, model, method, *args):
        return self.xmlrpc_object.execute_kw(self.env.cr.dbname, self.manager.id, MANAGER_PASSWORD, model, method,
                                             list(args))

    def assertRefused(self, model, method, args, *fragments):
        with mute_logger("odoo.http"), self.assertRaises(Fault) as caught:
            self.rpc(model, method, *args)
        for fragment in fragments:
            self.assertIn(fragment, caught.exception.faultString)

    def line(self, data_type, line_type, value, name="leak", **extra):
        return {"data_type_id": data_type.id, "line_type": line_type, "value": value, "name": name, **extra}

    def test_readable_lines_are_accepted(self):
        line_id = self.rpc("sync.mapping.line", "create", self.line(self.partner_type, "default", "{user_ids.login}"))
        self.assertTrue(self.env["sync.mapping.line"].browse(line_id).exists())

    def test_field_line_on_a_secret_is_refused(self):
        self.assertRefused("sync.mapping.line", "create", [self.line(self.user_type, "field", "totp_secret")],
                           "Line 'leak' of Users", "the field totp_secret of res.users",
                           "hidden from everybody")

    def test_template_reaching_a_secret_is_refused(self):
        self.assertRefused("sync.mapping.line", "create",
                           [self.line(self.partner_type, "default", "{user_ids.totp_secret}")],
                           "Line 'leak' of Partners", "{user_ids.totp_secret}", "the field totp_secret of res.users")

    def test_field_of_the_administration_groups_is_refused(self):
        self.assertRefused("sync.mapping.line", "create", [self.line(self.partner_type, "field", "signup_type")],
                           "Line 'leak' of Partners", "'signup_type' is readable by administrators or managers only")

    def test_model_line_into_api_keys_is_refused(self):
        self.assertRefused("sync.mapping.line", "create",
                           [self.line(self.user_type, "model", "api_key_ids", reference_id=self.user_type.id)],
                           "Line 'leak' of Users", "res.users.apikeys holds credentials")

    def test_field_of_a_model_only_administrators_read_is_refused(self):
        # the superuser may map the parameters (an administrator reads them); a manager may not add a line there
        parameters = self._data_type("Parameters", "ir.config_parameter", [("field", "key", "key")])
        self.assertRefused("sync.mapping.line", "create", [self.line(parameters, "field", "value")],
                           "Line 'leak' of Parameters", "you may not read ir.config_parameter")
        self.assertRefused("sync.mapping.line", "create", [self.line(parameters, "default", "{key}={value}")],
                           "Line 'leak' of Parameters", "you may not read ir.config_parameter")

    def test_reference_line_to_an_unreadable_model_is_refused(self):
        self.assertRefused("sync.mapping.line", "create",
                           [self.line(self.country_type, "reference", "address_view_id")],
                           "Line 'leak' of Countries", "ir.ui.view")
        self.assertFalse(self.env["ir.ui.view"].with_user(self.manager).has_access("read"))

    def test_an_administrators_code_line_is_not_moved_or_renamed_by_a_manager(self):
        code_line = self.env["sync.mapping.line"].with_user(self.admin).create(
            self.line(self.partner_type, "code", "record.name", name="approved"))
        mine = self.rpc("sync.data.type", "create", {
            "name": "Mine", "library_id": self.library.id, "model_id": self.env["ir.model"]._get("res.partner").id})
        for vals in ({"data_type_id": mine, "name": "stolen"}, {"name": "renamed"}, {"sequence": 99}):
            with self.subTest(vals=vals):
                self.assertRefused("sync.mapping.line", "write", [[code_line.id], vals], "Python code lines")
        self.assertRefused("sync.data.type", "write",
                           [[self.partner_type.id], {"line_ids": [(1, code_line.id, {"data_type_id": mine})]}],
                           "Python code lines")
        self.assertEqual((code_line.data_type_id, code_line.name), (self.partner_type, "approved"))
        # nor removed, nor any other line of its data type changed: the manager would become its owner and
        # choose what the administrator's code reads
        self.assertRefused("sync.mapping.line", "unlink", [[code_line.id]], "runs Python code lines")
        self.assertRefused("sync.mapping.line", "create", [self.line(self.partner_type, "field", "email")],
                           "runs Python code lines")
        self.assertRefused("sync.data.type", "write", [[self.partner_type.id], {"domain": "[('id', '>', 0)]"}],
                           "runs Python code lines")
        # nor embedded in his own data type
        self.assertRefused("sync.mapping.line", "create", [self.line(
            self.env["sync.data.type"].browse(mine), "model", "parent_id", reference_id=self.partner_type.id)],
            "runs Python code lines")
        self.assertTrue(code_line.exists())
        self.assertEqual(self.partner_type.domain, "[]")

    def test_changing_the_model_under_the_lines_is_refused(self):
        # on filters, model_id is a selection; on mail templates, a many2one to ir.model, whose display name the
        # template would render and the manager may not read
        data_type_id = self.rpc("sync.data.type", "create", {
            "name": "Filters", "library_id": self.library.id,
            "model_id": self.env["ir.model"]._get("ir.filters").id,
            "line_ids": [(0, 0, {"line_type": "default", "value": "{model_id}", "name": "model"})],
        })
        self.assertRefused("sync.data.type", "write",
                           [[data_type_id], {"model_id": self.env["ir.model"]._get("mail.template").id}],
                           "Line 'model' of Filters", "{model_id}: you may not read ir.model")
        self.assertRefused("sync.data.type", "write",
                           [[data_type_id], {"model_id": self.env["ir.model"]._get("res.users.apikeys").id}],
                           "Filters", "res.users.apikeys")
        self.assertEqual(self.env["sync.data.type"].browse(data_type_id).model_name, "ir.filters")


@tagged("post_install", "-at_install")
class TestLibraryImport(LinesCase):
    def _file(self):
        line = {"sequence": 1, "cardinality": False, "primary": False, "line_type": "field"}
        return {
            "format": "sync_mapping.library", "version": 1,
            "library": {"slug": "leaky", "name": "Leaky", "description": ""},
            "schemas": [],
            "data_types": [{
                "name": "Users", "model": "res.users", "schema": None, "conditions": [],
                "lines": [{**line, "name": "login", "value": "login", "reference": None},
                          {**line, "sequence": 2, "name": "secret", "value": "totp_secret", "reference": None}],
            }],
        }

    def test_import_of_a_secret_line_is_refused(self):
        wizard = self.env["sync.library.import"].with_user(self.manager).create(
            {"file": base64.b64encode(json.dumps(self._file()).encode())})
        self.assertRefusedWith(r"Line 'secret' of Users: the field totp_secret of res\.users holds credentials",
                               wizard.action_import)
        # through sudo() too: the check is made with the importing user's rights
        self.assertRefusedWith("Line 'secret' of Users", self.env["sync.library"].with_user(self.manager).sudo()
                               ._import_config, self._file())
        self.assertFalse(self.env["sync.library"].search([("slug", "=", "leaky")]))


ACTING = [
    "record.toggle_active() or record.name",
    "record.action_archive()",
    "record.message_post(body='posted while serializing')",
    "record.search([])",
    "record.browse(2)",
]


@tagged("post_install", "-at_install")
class TestCodeLines(LinesCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.code_line = cls.env["sync.mapping.line"].create(
            {"data_type_id": cls.partner_type.id, "line_type": "code", "value": "record.name", "name": "code"})
        cls.partner_type.action_generate_schema()
        cls.partners = cls.env["res.partner"].create([{"name": f"Reader {i}"} for i in range(3)])

    def save(self, expression):
        return self.env["sync.mapping.line"].with_user(self.admin).create(
            {"data_type_id": self.partner_type.id, "line_type": "code", "value": expression, "name": "saved"})

    def test_code_lines_that_act_are_refused_at_save(self):
        for expression in ACTING:
            with self.subTest(expression=expression):
                self.assertRefusedWith(r"Line 'saved' of Partners: the expression is refused: calling '\w+' is not "
                                       r"allowed \(a code line only reads its record\)", self.save, expression)
        self.assertRefusedWith(
            r"record\.user_ids\.mapped\('totp_secret'\): the field totp_secret of res\.users holds credentials",
            self.save, "record.user_ids.mapped('totp_secret')")
        self.assertRefusedWith(r"record\.child_ids.*the field totp_secret of res\.users", self.save,
                               "[u.totp_secret for c in record.child_ids for u in c.user_ids]")
        self.assertRefusedWith("'write' is not allowed", self.save,
                               "record.filtered(lambda r: r.write({'name': 'x'})) or record.name")
        self.assertRefusedWith("system.code and system.name only", self.save, "system.company_id.name")
        self.assertRefusedWith("calls mapped, filtered, sorted, ensure_one, exists only", self.save,
                               "record.child_ids.unlink_if_you_can()")
        for expression in ("record.name.upper()", "', '.join(record.child_ids.mapped('name'))",
                           "[c.email or '' for c in record.child_ids.filtered(lambda c: c.active)]",
                           "system and system.code", "record.country_id.code"):
            with self.subTest(expression=expression):
                self.assertTrue(self.save(expression))

    def bypass(self, expression):
        """Give the code line an expression the check would refuse, as a line saved before the check existed."""
        self.env.cr.execute("UPDATE sync_mapping_line SET value = %s WHERE id = %s", (expression, self.code_line.id))
        self.code_line.invalidate_recordset(["value"])

    def serialize(self):
        with mute_logger("odoo.sql_db"):
            return {record.id: (document, str(error or "")) for record, document, error
                    in self.partner_type._serialize_collect(self.partners)}

    def assertReadWrite(self):
        self.env.cr.execute("SHOW transaction_read_only")
        self.assertEqual(self.env.cr.fetchone()[0], "off")
        self.partners[0].ref = "written afterwards"
        self.env.flush_all()

    def test_writes_fail_the_line_and_change_nothing(self):
        messages = self.env["mail.message"].search_count([])
        cases = ACTING[:3] + [
            "record.filtered(lambda r: r.write({'name': 'changed'})) or record.name",
            "record.env['res.partner'].create({'name': 'Created while serializing'}) and record.name",
        ]
        expected = {
            ACTING[0]: "UPDATE on res_partner", ACTING[1]: "UPDATE on res_partner",
            ACTING[2]: "INSERT on mail_message", cases[-1]: "INSERT on res_partner",
        }
        partners = self.env["res.partner"].search_count([])
        for expression in cases:
            with self.subTest(expression=expression):
                self.bypass(expression)
                results = self.serialize()
                for partner in self.partners:
                    document, error = results[partner.id]
                    self.assertIsNone(document)
                    self.assertIn("the expression tried to change data (", error)
                    self.assertIn(expected.get(expression, "UPDATE on res_partner"), error)
                    self.assertIn("code lines only read their record", error)
                self.partners.invalidate_recordset()
                self.assertEqual(self.partners.mapped("active"), [True] * 3)
                self.assertEqual(self.partners.mapped("name"), ["Reader 0", "Reader 1", "Reader 2"])
                self.assertEqual(self.env["mail.message"].search_count([]), messages)
                self.assertEqual(self.env["res.partner"].search_count([]), partners)
                self.assertReadWrite()

    def test_one_writing_record_fails_alone(self):
        target = self.partners[1]
        self.bypass(f"record.name if record.id != {target.id} else record.write({{'name': 'changed'}})")
        results = self.serialize()
        self.assertEqual(results[self.partners[0].id][0], {"name": "Reader 0", "code": "Reader 0"})
        self.assertEqual(results[self.partners[2].id][0], {"name": "Reader 2", "code": "Reader 2"})
        self.assertIn("UPDATE on res_partner", results[target.id][1])
        self.assertIn(f"res.partner,{target.id} (Reader 1), property code of Partners", results[target.id][1])
        target.invalidate_recordset()
        self.assertEqual(target.name, "Reader 1")
        self.assertReadWrite()

    def test_pending_changes_are_kept(self):
        # written before serializing, not flushed yet: the failed evaluation must not drop it
        self.partners[2].name = "Renamed before"
        self.bypass("record.toggle_active() or record.name")
        self.serialize()
        self.env.cr.execute("SELECT name FROM res_partner WHERE id = %s", [self.partners[2].id])
        name = self.env.cr.fetchone()[0]
        self.assertEqual(name, "Renamed before")

    def test_work_left_for_the_commit_fails_the_line(self):
        precommit = len(self.env.cr.precommit._funcs)
        self.bypass("record.env.cr.precommit.add(record.exists) or record.name")
        results = self.serialize()
        self.assertIn("registered work for the commit", results[self.partners[0].id][1])
        self.assertEqual(len(self.env.cr.precommit._funcs), precommit)

    def test_reading_lines_still_work(self):
        self.bypass("record.name.upper()")
        results = self.serialize()
        self.assertEqual(results[self.partners[0].id][0]["code"], "READER 0")
        self.assertReadWrite()


@tagged("post_install", "-at_install")
class TestOwnerBoundsRecords(LinesCase):
    """A manager's data type sends only what he may read: the record, and what its model, reference and template
    lines reach (another company's partner, here)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Owner B"})
        cls.hidden = cls.env["res.partner"].create({"name": "Hidden B Parent", "is_company": True,
                                                   "company_id": cls.company_b.id})
        cls.visible = cls.env["res.partner"].create({"name": "Visible A Parent", "is_company": True,
                                                    "company_id": cls.env.company.id})
        cls.child_of_hidden = cls.env["res.partner"].create({"name": "Child", "parent_id": cls.hidden.id,
                                                             "company_id": cls.env.company.id})
        cls.child_of_visible = cls.env["res.partner"].create({"name": "Other child", "parent_id": cls.visible.id,
                                                              "company_id": cls.env.company.id})
        Type = cls.env["sync.data.type"].with_user(cls.manager)
        cls.mine = Type.create({
            "name": "Mine", "library_id": cls.library.id, "model_id": cls.env["ir.model"]._get("res.partner").id,
            "line_ids": [(0, 0, {"line_type": "field", "value": "name", "name": "name"}),
                         (0, 0, {"line_type": "default", "value": "{parent_id.name}", "name": "parent"}),
                         (0, 0, {"line_type": "field", "value": "parent_id", "name": "parent_id"})],
        })
        cls.mine.action_generate_schema()

    def test_the_owner_is_the_last_person_who_changed_it(self):
        self.assertEqual(self.mine.owner_id, self.manager)
        self.mine.with_user(self.manager).write({"owner_id": self.admin.id})
        self.assertEqual(self.mine.owner_id, self.manager)
        self.partner_type.line_ids[:1].with_user(self.manager).write({"name": "label"})
        self.assertEqual(self.partner_type.owner_id, self.manager)

    def test_records_and_templates_reach_only_what_the_owner_reads(self):
        entries = {record: (document, error) for record, document, error in
                   self.mine.sudo()._serialize_collect(self.hidden | self.child_of_hidden | self.child_of_visible)}
        self.assertEqual(entries[self.child_of_visible][0], {"name": "Other child", "parent": "Visible A Parent",
                                                             "parent_id": self.visible.id})
        for record in (self.hidden, self.child_of_hidden):
            document, error = entries[record]
            self.assertIsNone(document)
            self.assertIn(f"may not read res.partner,{self.hidden.id}", error.args[0])
            self.assertNotIn("Hidden B Parent", error.args[0])
        # a field line alone gives the id of a record the owner may not read: refused too
        self.mine.line_ids.filtered(lambda line: line.line_type == "default").unlink()
        self.mine.action_generate_schema()
        error = self.mine.sudo()._serialize_collect(self.child_of_hidden)[0][2]
        self.assertIn("property parent_id: ", error.args[0])
        self.assertIn(f"may not read res.partner,{self.hidden.id}", error.args[0])
        # the superuser's data types (installed by a module) are not limited
        self.assertEqual(self.partner_type.sudo()._serialize(self.hidden), [{"name": "Hidden B Parent"}])


@tagged("post_install", "-at_install")
class TestAdministratorCodeOverRpc(series.AllowAllRequests, HttpCase, LinesCase):
    """The six expressions of the security review, saved by an administrator over XML-RPC, are refused."""

    def test_the_reviews_expressions_are_refused_over_rpc(self):
        for expression in (*ACTING, "record.user_ids.mapped('totp_secret')"):
            with self.subTest(expression=expression), mute_logger("odoo.http"), self.assertRaises(Fault) as caught:
                self.xmlrpc_object.execute_kw(
                    self.env.cr.dbname, self.admin.id, "admin", "sync.mapping.line", "create",
                    [{"data_type_id": self.partner_type.id, "line_type": "code", "value": expression,
                      "name": "saved"}])
            self.assertIn("Line 'saved' of Partners", caught.exception.faultString)
        self.assertFalse(self.partner_type.line_ids.filtered(lambda line: line.line_type == "code"))


@tagged("post_install", "-at_install")
class TestWhatErrorsAndPreviewsShow(TestOwnerBoundsRecords):
    def test_a_code_lines_error_names_its_kind_not_its_text(self):
        code_type = self._data_type("Code errors", "res.partner", [("code", "int(record.parent_id.name)", "n")])
        error = code_type._serialize_collect(self.child_of_hidden)[0][2]
        self.assertIn("raised ValueError", error.args[0])
        # the record's own display name is what Odoo shows of it; the value the expression read is not there
        self.assertNotIn("invalid literal", error.args[0])
        self.assertNotIn("base 10", error.args[0])

    def test_a_preview_shows_only_what_its_viewer_reads(self):
        viewer = mail_new_test_user(self.env, login="preview_viewer",
                                    groups="base.group_user,sync_base.group_sync_user")
        suite_type = self._data_type("Suite's", "res.partner", [("field", "name", "name"),
                                                                ("default", "{parent_id.name}", "parent")])
        preview = self.env["sync.preview"].with_user(viewer).create(
            {"data_type_id": suite_type.id, "record_ref": f"res.partner,{self.child_of_hidden.id}"})
        self.assertFalse(preview.document)
        self.assertNotIn("Hidden B Parent", preview.error or "")
        preview = self.env["sync.preview"].with_user(viewer).create(
            {"data_type_id": suite_type.id, "record_ref": f"res.partner,{self.child_of_visible.id}"})
        self.assertIn("Visible A Parent", preview.document)
        code_type = self._data_type("Code preview", "res.partner", [("code", "record.name", "n")])
        preview = self.env["sync.preview"].with_user(viewer).create(
            {"data_type_id": code_type.id, "record_ref": f"res.partner,{self.child_of_visible.id}"})
        self.assertIn("only administrators preview it", preview.error)
