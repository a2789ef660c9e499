import json
import re

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.sync_base import compat

SLUG_RE = re.compile(r"^[a-z0-9_]+$")


def check_slug(env, slug, what):
    """Raise a ValidationError unless ``slug`` is lowercase letters, digits and underscores."""
    if not SLUG_RE.match(slug or ""):
        raise ValidationError(
            env._("The slug %(slug)r of %(what)s is invalid: use lowercase letters, digits and '_' only.",
                  slug=slug, what=what)
        )


class SyncLibrary(models.Model):
    """A folder of schemas and data types, exported and imported as one JSON file."""

    _name = "sync.library"
    _description = "Synchronization Library"
    _order = "name, id"

    name = fields.Char(required=True)
    slug = fields.Char(required=True, help="Lowercase letters, digits and '_'; the first part of message types.")
    active = fields.Boolean(default=True)
    description = fields.Text()
    schema_ids = fields.One2many("sync.schema", "library_id", string="Schemas")
    data_type_ids = fields.One2many("sync.data.type", "library_id", string="Data Types")
    schema_count = fields.Integer(compute="_compute_counts")
    data_type_count = fields.Integer(compute="_compute_counts")

    compat.declare_constraints(locals(), [("slug_unique", "unique(slug)", "The slug of a library must be unique.")])

    @api.depends("schema_ids", "data_type_ids")
    def _compute_counts(self):
        for library in self:
            library.schema_count = len(library.schema_ids)
            library.data_type_count = len(library.data_type_ids)

    @api.constrains("slug")
    def _check_slug(self):
        for library in self:
            check_slug(self.env, library.slug, _("library %(name)s", name=library.name))

    def action_view_schemas(self):
        return self._action_view("sync_mapping.sync_schema_action")

    def action_view_data_types(self):
        return self._action_view("sync_mapping.sync_data_type_action")

    def _action_view(self, xmlid):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = [("library_id", "=", self.id)]
        action["context"] = {"default_library_id": self.id}
        return action

    def action_export(self):
        """Download the library's configuration as one JSON file."""
        self.ensure_one()
        wizard = self.env["sync.library.export"].create({"library_id": self.id})
        return wizard.action_export()

    # ------------------------------------------------------------------
    # Export and import
    # ------------------------------------------------------------------
    _DATA_TYPE_KEYS = ("enabled", "trigger", "interval_minutes", "domain", "sync_deletion", "delete_mode", "on_leave",
                       "sequence")
    _LINE_KEYS = ("sequence", "name", "value", "line_type", "cardinality", "primary")
    _CONDITION_KEYS = ("sequence", "field_name", "operator", "value")

    def _export_config(self):
        """The library as a JSON-ready dict; models and fields by technical name, systems left out."""
        self.ensure_one()
        return {
            "format": "sync_mapping.library",
            "version": 1,
            "library": {"slug": self.slug, "name": self.name, "description": self.description or ""},
            "schemas": [
                {"slug": s.slug, "name": s.name, "schema": json.loads(s.schema)}
                for s in self.schema_ids.sorted("slug")
            ],
            "data_types": [dt._export_config() for dt in self.data_type_ids.sorted(lambda d: (d.sequence, d.name))],
        }

    @api.model
    def _import_config(self, data):
        """Create or update a library from :meth:`_export_config`'s output; return it.

        Only what differs is written, so importing the same file twice changes nothing.  Everything the
        library maps is then checked with the rights of the importing user, never the superuser's, even when
        this is called through ``sudo()``: the lines a file holds are lines that user saves.
        """
        if not isinstance(data, dict) or data.get("format") != "sync_mapping.library" or data.get("version") != 1:
            raise UserError(_("The file is not a library export of this suite (format sync_mapping.library, v1)."))
        has_code = any(
            line.get("line_type") == "code" for dt in data.get("data_types", []) for line in dt.get("lines", [])
        )
        if has_code and not self.env.user.has_group("base.group_system"):
            raise AccessError(
                _("This library holds Python code lines: only members of Settings / Administration may import it.")
            )
        info = data["library"]
        library = self.with_context(active_test=False).search([("slug", "=", info["slug"])], limit=1)
        vals = {"name": info["name"], "description": info.get("description") or False}
        if library:
            _write_changed(library, vals)
        else:
            library = self.create(dict(vals, slug=info["slug"]))
        schemas = {}
        for item in data.get("schemas", []):
            text = json.dumps(item["schema"], indent=2)
            schema = library.schema_ids.filtered(lambda s, slug=item["slug"]: s.slug == slug)
            if schema:
                if json.loads(schema.schema) != item["schema"]:
                    schema.schema = text
                _write_changed(schema, {"name": item["name"]})
            else:
                schema = self.env["sync.schema"].create(
                    {"library_id": library.id, "slug": item["slug"], "name": item["name"], "schema": text}
                )
            schemas[item["slug"]] = schema
        data_types = {}
        for item in data.get("data_types", []):
            data_types[item["name"]] = self.env["sync.data.type"]._import_header(library, item, schemas)
        for item in data.get("data_types", []):
            data_types[item["name"]]._import_lines(item, data_types)
        # unchanged lines were not written, so their constraints did not run: check all of them, as the user
        library.with_env(self.env(su=False)).data_type_ids._check_lines_access()
        return library


def _write_changed(record, vals):
    changed = {k: v for k, v in vals.items() if record[k] != v}
    if changed:
        record.write(changed)
