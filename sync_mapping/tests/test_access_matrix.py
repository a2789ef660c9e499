"""The access matrix of the mapping models (issue 25): see ``sync_base/tests/test_access_matrix.py``.

Libraries, schemas, data types, lines and conditions carry no company: they
name models and fields, not records, and are shared by the companies of a
database (what reaches a system is kept to its company by the system and by
the records' own rules).  So a manager of any company configures them, and a
synchronization user of any company reads them.
"""

import base64
import json

from odoo.tests import tagged

from odoo.addons.sync_base.tests.test_access_matrix import (
    ADMIN,
    MANAGERS_ANY,
    NOBODY,
    REFUSALS,
    ROLES,
    SYNC_ANY,
    AccessMatrixMixin,
)

from .common import MappingCase


@tagged("post_install", "-at_install")
class TestAccessMatrix(AccessMatrixMixin, MappingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_matrix_roles()
        cls.param = cls.env["ir.config_parameter"].create({"key": "matrix.secret", "value": "param-s3cret"})
        # a data type on a model only administrators read, made by the superuser
        cls.param_type = cls._data_type(
            "Parameters", "ir.config_parameter",
            [("field", "key", "key", {"primary": True}), ("field", "value", "value", {})],
        )
        cls.param_type.action_generate_schema()
        cls.token_type = cls._data_type("Tokens", "sync.inbound.token", [("field", "name", "name", {"primary": True})])
        cls.condition = cls.env["sync.condition"].create(
            {"data_type_id": cls.contact_type.id, "field_name": "name", "operator": "!=", "value": "Nobody"})
        cls.empty_library = cls.env["sync.library"].create({"name": "Empty", "slug": "matrix_empty"})
        cls.line = cls.contact_type.line_ids.filtered(lambda line: line.name == "email")
        cls.code_line = cls.company_type.line_ids.filtered(lambda line: line.line_type == "code")
        cls.targets = {
            "library": cls.library, "empty_library": cls.empty_library, "schema": cls.contact_type.schema_id,
            "data_type": cls.contact_type, "param_type": cls.param_type, "line": cls.line,
            "code_line": cls.code_line, "condition": cls.condition,
        }

    def test_configuration(self):
        contact = self.contact_type.id
        rows = [
            ("library", "name", "read", SYNC_ANY),
            ("library", "slug", "search", SYNC_ANY),
            ("library", "slug", "read_group", SYNC_ANY),
            ("library", "name", "export", SYNC_ANY),
            ("library", "name", "write", MANAGERS_ANY, "Renamed"),
            ("library", None, "create", MANAGERS_ANY, {"name": "New", "slug": "matrix_new"}),
            ("empty_library", None, "unlink", MANAGERS_ANY),
            ("library", "action_export", "button", MANAGERS_ANY),
            ("schema", "schema", "read", SYNC_ANY),
            ("schema", "name", "write", MANAGERS_ANY, "Renamed"),
            ("data_type", "domain", "read", SYNC_ANY),
            ("data_type", "domain", "search", SYNC_ANY),
            ("data_type", "model_name", "read_group", SYNC_ANY),
            ("data_type", "name", "write", MANAGERS_ANY, "Renamed"),
            ("data_type", "action_generate_schema", "button", MANAGERS_ANY),
            ("data_type", "action_preview", "button", SYNC_ANY),
            ("condition", "value", "read", SYNC_ANY),
            ("condition", "value", "write", MANAGERS_ANY, "Someone"),
            ("line", "value", "read", SYNC_ANY),
            ("line", "name", "write", MANAGERS_ANY, "mail"),
            ("line", None, "create", MANAGERS_ANY,
             {"data_type_id": contact, "line_type": "field", "value": "phone", "name": "phone"}),
            ("line", None, "unlink", MANAGERS_ANY),
        ]
        self.assert_matrix(rows, self.targets)

    def test_code_lines_and_unreadable_fields_are_for_administrators(self):
        contact, param, token = self.contact_type.id, self.param_type.id, self.token_type.id
        rows = [
            ("code_line", "value", "read", SYNC_ANY),
            ("code_line", "value", "write", ADMIN, "record.name.lower()"),
            ("line", None, "create", ADMIN,
             {"data_type_id": contact, "line_type": "code", "value": "record.name", "name": "code"}),
            ("line", "line_type", "write", ADMIN, "code"),
            # a manager may not map what he may not read: a model only administrators read
            ("line", None, "create", ADMIN,
             {"data_type_id": param, "line_type": "field", "value": "create_date", "name": "created"}),
            ("line", None, "create", ADMIN,
             {"data_type_id": param, "line_type": "default", "value": "{value}", "name": "copy"}),
            # credentials go into no document, whoever asks
            ("line", None, "create", NOBODY,
             {"data_type_id": token, "line_type": "field", "value": "token_hash", "name": "hash"}),
            ("line", None, "create", NOBODY,
             {"data_type_id": token, "line_type": "default", "value": "{token_hash}", "name": "hash"}),
        ]
        self.assert_matrix(rows, self.targets)

    def _preview(self, role, data_type, record, system=None):
        """The document ``role`` sees in the preview of ``record``, or ``None`` when refused."""
        Preview = self.env["sync.preview"].with_user(self.roles[role])
        with self.env.cr.savepoint() as savepoint:
            try:
                wizard = Preview.create({"data_type_id": data_type.id,
                                         "record_ref": f"{record._name},{record.id}",
                                         "system_id": system.id if system else False})
                document = wizard.document
                self.assertNotIn("s3cret", wizard.error or "")
                self.assertNotIn("Secret", wizard.error or "")
            except (*REFUSALS, ValueError) as exc:  # ValueError: a model the record field does not offer him
                document = None
                self.assertNotIn("s3cret", str(exc))
            savepoint.rollback()
        self.env.invalidate_all()
        return document

    def test_preview_shows_only_what_the_user_may_read(self):
        other_partner = self.env["res.partner"].create(
            {"name": "Company B Secret Contact", "company_id": self.other_company.id})
        cases = [
            (self.param_type, self.param, "param-s3cret", ADMIN),
            (self.contact_type, other_partner, "Company B Secret Contact", {"other_manager", "other_user"}),
            # a contact of no company: every company's synchronization users read it
            (self.contact_type, self.contact, "Brandon Freeman", SYNC_ANY),
        ]
        for data_type, record, secret, allowed in cases:
            for role in ROLES:
                with self.subTest(role=role, record=record.display_name):
                    document = self._preview(role, data_type, record)
                    self.assertEqual(bool(document and secret in document), role in allowed,
                                     f"{role} previewing {record._name},{record.id}: {document!r}")

    def test_preview_offers_only_readable_models(self):
        """The record field's model list is that of the models the user may read."""
        selection = self.env["sync.preview"].with_user(self.roles["sync_user"]).fields_get(
            ["record_ref"], ["selection"])["record_ref"]["selection"]
        models = {model for model, _label in selection}
        self.assertIn("res.partner", models)
        self.assertNotIn("ir.config_parameter", models)

    def test_code_line_preview_runs_with_the_user_rights(self):
        """A preview of a data type with code lines by a non-administrator reads nothing his rights refuse."""
        other_company = self.env["res.partner"].create(
            {"name": "Company B Secret Corp", "is_company": True, "company_id": self.other_company.id})
        document = self._preview("sync_user", self.company_type, other_company)
        self.assertFalse(document and "SECRET CORP" in document, document)
        document = self._preview("admin", self.company_type, self.company)
        self.assertIn("AZURE INTERIOR", document or "")

    def test_library_import_of_code_lines(self):
        data = self.library._export_config()
        data["library"]["slug"] = "matrix_imported"
        payload = base64.b64encode(json.dumps(data).encode())
        for role in ROLES:
            with self.subTest(role=role), self.env.cr.savepoint() as savepoint:
                try:
                    wizard = self.env["sync.library.import"].with_user(self.roles[role]).create({"file": payload})
                    wizard.action_import()
                    reached = True
                except REFUSALS:
                    reached = False
                savepoint.rollback()
                self.env.invalidate_all()
                self.assertEqual(reached, role in ADMIN, f"{role} imported a library with code lines")

    def test_credentials_are_never_copied_tracked_or_shown_to_others(self):
        self.assert_secrets_stay_put()
