from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import MappingCase


@tagged("post_install", "-at_install")
class TestChecks(MappingCase):
    def _line(self, line_type, value, name="prop", **extra):
        return self.env["sync.mapping.line"].create(
            {"data_type_id": self.contact_type.id, "line_type": line_type, "value": value, "name": name, **extra}
        )

    def test_invalid_json_schema(self):
        schema = self.contact_type.schema_id
        with self.assertRaisesRegex(ValidationError, "not valid JSON"):
            schema.schema = "{not json"
        with self.assertRaisesRegex(ValidationError, "not a valid JSON Schema at properties/name/type: 'strin'"):
            schema.schema = '{"type": "object", "properties": {"name": {"type": "strin"}}}'

    def test_unknown_field(self):
        with self.assertRaisesRegex(ValidationError, "'no_such_field' is not a field of res.partner"):
            self._line("field", "no_such_field")
        with self.assertRaisesRegex(ValidationError, "without a dotted path"):
            self._line("field", "country_id.code")

    def test_template_paths(self):
        with self.assertRaisesRegex(ValidationError, "not a field chain: 'nope' is not a field of res.country"):
            self._line("default", "{country_id.nope}")
        with self.assertRaisesRegex(ValidationError, "not a field chain: 'name' is not relational"):
            self._line("default", "{name.upper}")
        with self.assertRaisesRegex(ValidationError, "the template is invalid"):
            self._line("default", "{name")
        with self.assertRaisesRegex(ValidationError, "the template is invalid"):
            self._line("default", "name}")
        with self.assertRaisesRegex(ValidationError, "the template is invalid"):
            self._line("default", "{__class__}")
        line = self._line("default", '{{"c": "{country_id.code}"}}')
        self.assertTrue(line)

    def test_code_escapes_are_refused(self):
        attempts = [
            "__import__('os').system('id')",
            "record.__class__",
            "'{0.__init__.__globals__[config][admin_passwd]}'.format(record)",
            "'{0._' '_init__}'.format(record)",
            "'_' + '_class_' + '_'",
            "'{0}'.format_map(record)",
            "record.env['res.users']",
            "env['res.users']",
            "open('/etc/passwd').read()",
            "record.name.format(1)",
            "record._cr.execute('DELETE FROM res_partner')",
            "record.sudo().name",
            "record.with_user(1).name",
            "record.parent_id.write({'name': 'changed while serializing'})",
        ]
        for expression in attempts:
            with self.subTest(expression=expression), self.assertRaisesRegex(ValidationError, "is refused"):
                self._line("code", expression)
        self.assertTrue(self._line("code", "(record.email or '').lower()"))

    def test_credentials_are_never_mapped(self):
        tokens = self._data_type("Tokens", "sync.inbound.token", [("field", "name", "name", {})])
        with self.assertRaisesRegex(ValidationError, "'token_hash' is readable by administrators or managers only"):
            self.env["sync.mapping.line"].create(
                {"data_type_id": tokens.id, "line_type": "field", "value": "token_hash", "name": "hash"})
        with self.assertRaisesRegex(ValidationError, "readable by administrators or managers only"):
            self.env["sync.mapping.line"].create(
                {"data_type_id": tokens.id, "line_type": "default", "value": "{token_hash}", "name": "hash"})

    def test_code_lines_need_administration(self):
        DataTypes = self.env["sync.data.type"].with_user(self.manager)
        with self.assertRaisesRegex(AccessError, "Settings / Administration"):
            self.env["sync.mapping.line"].with_user(self.manager).create(
                {"data_type_id": self.contact_type.id, "line_type": "code", "value": "record.name", "name": "x"}
            )
        field_line = self.contact_type.line_ids[0].with_user(self.manager)
        with self.assertRaisesRegex(AccessError, "Settings / Administration"):
            field_line.write({"line_type": "code", "value": "record.name"})
        code_line = self.company_type.line_ids.filtered(lambda line: line.line_type == "code")
        with self.assertRaisesRegex(AccessError, "Settings / Administration"):
            code_line.with_user(self.manager).value = "record.street"
        # other lines stay editable by managers
        field_line.name = "full_name"
        self.assertEqual(field_line.name, "full_name")
        data = self.library._export_config()
        with self.assertRaisesRegex(AccessError, "Settings / Administration"):
            self.env["sync.library"].with_user(self.manager)._import_config(data)
        self.assertTrue(DataTypes.browse(self.contact_type.id).name)

    def test_model_line_needs_matching_data_type(self):
        with self.assertRaisesRegex(ValidationError, "maps res.country, but parent_id holds res.partner"):
            self._line("model", "parent_id", reference_id=self.country_type.id)
        with self.assertRaisesRegex(ValidationError, "needs the data type of the related records"):
            self._line("model", "parent_id")

    def test_slugs(self):
        with self.assertRaisesRegex(ValidationError, "use lowercase letters"):
            self.env["sync.library"].create({"name": "Bad", "slug": "Bad Slug"})
        with self.assertRaisesRegex(ValidationError, "use lowercase letters"):
            self.env["sync.schema"].create({"name": "Bad", "slug": "a-b", "library_id": self.library.id})
