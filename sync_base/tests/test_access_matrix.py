"""The access matrix of the suite's security boundary, as data (issue 25).

A row is ``(target, field or method, operation, roles that reach it)``; every
role not listed must not reach it.  ``AccessMatrixMixin`` makes the roles and
probes one cell; the other addons import it (it is no test case itself, so
importing it runs nothing twice) and hold their own rows.

To *reach* a cell means:

* ``read``, ``write``, ``create``, ``unlink``, ``button``: the call succeeds
  (any ``AccessError`` or ``UserError`` is a refusal); writes are rolled back;
* ``search``: a search on the field finds the target record;
* ``read_group``: a grouping by the field returns the target record's group;
* ``export``: ``export_data`` on the field returns the record's value;
* ``fields_get``: the field is described to the user (the web client shows
  only what ``fields_get`` describes).

A refusal and an empty answer are the same for the matrix: a user of another
company gets no error but no record either.
"""

from xmlrpc.client import Fault

from odoo.exceptions import AccessError, MissingError, UserError
from odoo.tests import HttpCase, tagged

from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.sync_base import compat
from odoo.addons.sync_base.tests import series

from .common import SyncCase

ROLES = ("admin", "manager", "sync_user", "internal", "portal", "public", "inbound", "other_manager",
         "other_user")
ADMIN = frozenset({"admin"})
MANAGERS = frozenset({"admin", "manager"})  # managers of the records' company (the admin is one)
SYNC = MANAGERS | {"sync_user"}  # the synchronization users of the records' company
MANAGERS_ANY = MANAGERS | {"other_manager"}  # managers of any company: shared records, their own creations
SYNC_ANY = SYNC | {"other_manager", "other_user"}
NOBODY = frozenset()

# the groups of each role; the other company's users belong to company B only
ROLE_GROUPS = {
    "admin": "base.group_user,base.group_system,sync_base.group_sync_manager",
    "manager": "base.group_user,sync_base.group_sync_manager",
    "sync_user": "base.group_user,sync_base.group_sync_user",
    "internal": "base.group_user",
    "portal": "base.group_portal",
    "public": "base.group_public",
    # an inbound user applies documents with the rights of its target models, and is no synchronization user
    "inbound": "base.group_user,base.group_partner_manager",
    "other_manager": "base.group_user,sync_base.group_sync_manager",
    "other_user": "base.group_user,sync_base.group_sync_user",
}
# what a refusal may raise: anything else is a bug of the probe or of the code, and fails loudly
REFUSALS = (AccessError, UserError, MissingError)


class AccessMatrixMixin:
    """Users of each role, and a probe of one cell of the matrix."""

    @classmethod
    def _setup_matrix_roles(cls):
        cls.matrix_company = cls.env.company
        cls.other_company = cls.env["res.company"].create({"name": "Matrix Company B"})
        cls.roles = {}
        for role in ROLES:
            login = f"matrix_{role}"
            vals = {}
            if role.startswith("other_"):
                vals = {"company_id": cls.other_company.id, "company_ids": [(6, 0, cls.other_company.ids)]}
            groups = ROLE_GROUPS[role]
            if "base.group_user" in groups:
                # Odoo lets only this group export; every internal role has it here, so that the suite's own
                # rules are what refuses an export
                groups += ",base.group_allow_export"
            cls.roles[role] = mail_new_test_user(cls.env, login=login, groups=groups, **vals)

    def _reached(self, role, record, name, operation, value=None):
        """Whether ``role`` reaches ``name`` (a field or a method) of ``record`` by ``operation``."""
        user = self.roles[role]
        mine = record.with_user(user)
        Model = self.env[record._name].with_user(user)
        with self.env.cr.savepoint() as savepoint:
            try:
                if operation == "read":
                    result = mine.read([name or "display_name"])
                    reached = bool(result)
                elif operation == "write":
                    mine.write({name: value})
                    mine.env.flush_all()
                    reached = True
                elif operation == "create":
                    Model.create(value)
                    Model.env.flush_all()
                    reached = True
                elif operation == "unlink":
                    mine.unlink()
                    reached = True
                elif operation == "search":
                    reached = bool(Model.search([("id", "=", record.id), (name, "!=", False)]))
                elif operation == "read_group":
                    domain = [("id", "=", record.id), (name, "!=", False)]
                    if compat.SERIES >= 19:
                        # 19.0 deprecates read_group (a warning per call) for formatted_read_group
                        groups = Model.formatted_read_group(domain, [name], ["__count"])
                    else:
                        groups = Model.read_group(domain, [name], [name])
                    reached = bool(groups)
                elif operation == "export":
                    rows = mine.export_data([name])["datas"]
                    reached = bool(rows and rows[0] and rows[0][0] not in (False, "", None))
                elif operation == "fields_get":
                    reached = name in Model.fields_get([name], ["type"])
                elif operation == "button":
                    getattr(mine, name)(*(value or ()))
                    mine.env.flush_all()
                    reached = True
                else:
                    raise ValueError(f"unknown operation {operation}")
            except REFUSALS:
                reached = False
            savepoint.rollback()
        self.env.invalidate_all()
        return reached

    def assert_matrix(self, rows, targets):
        """Check every cell of ``rows`` for every role; ``targets`` maps a row's target to its record."""
        for row in rows:
            target, name, operation, allowed = row[:4]
            value = row[4] if len(row) > 4 else None
            record = targets[target]
            for role in ROLES:
                expected = role in allowed
                with self.subTest(role=role, target=target, name=name, operation=operation):
                    reached = self._reached(role, record, name, operation, value)
                    self.assertEqual(
                        reached, expected,
                        f"{role} {'could not' if expected else 'can'} {operation} {name or ''} of {target} "
                        f"({record._name})",
                    )

    def assert_secrets_stay_put(self):
        """No field kept out of exports (a credential) is readable outside the credential groups, copied with its
        record or tracked into the chatter (a tracking value is readable by whoever reads the record)."""
        credential_groups = {"base.group_system", "sync_base.group_sync_manager"}
        secrets = [field for name, Model in self.env.registry.items() if name.startswith("sync.")
                   for field in Model._fields.values() if not field.exportable]
        self.assertTrue(secrets, "the suite declares no credential field")
        for field in secrets:
            with self.subTest(field=f"{field.model_name}.{field.name}"):
                groups = {group.strip() for group in (field.groups or "").split(",") if group.strip()}
                self.assertTrue(groups and groups <= credential_groups, f"{field} is readable by {groups or 'all'}")
                self.assertFalse(field.copy, f"{field} is copied with its record")
                self.assertFalse(getattr(field, "tracking", False), f"{field} is tracked into the chatter")


@tagged("post_install", "-at_install")
class TestAccessMatrix(AccessMatrixMixin, SyncCase):
    """Systems, inbound tokens and bindings, for every role."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_matrix_roles()
        vals = {"test_secret": "s3cr3t"} if cls.has_test_transport else {}
        cls.system = cls._create_system("matrix_a", company_id=cls.matrix_company.id, **vals)
        cls.shared = cls._create_system("matrix_shared", company_id=False)
        cls.system._generate_inbound_token(name="Matrix token")
        cls.token = cls.system.sudo().token_ids
        cls.shared._generate_inbound_token(name="Revoked token")
        cls.revoked = cls.shared.sudo().token_ids
        cls.revoked.action_revoke()
        cls.binding = cls.env["sync.binding"].create({
            "system_id": cls.system.id, "model": "res.partner", "res_id": cls.env.user.partner_id.id,
            "remote_model": "res.partner", "remote_ref": "42",
        })
        cls.targets = {"system": cls.system, "shared": cls.shared, "token": cls.token, "revoked": cls.revoked,
                       "binding": cls.binding}

    def test_systems(self):
        rows = [
            ("system", "name", "read", SYNC),
            ("shared", "name", "read", SYNC_ANY),
            ("system", "name", "search", SYNC),
            ("system", "code", "read_group", SYNC),
            ("system", "code", "export", SYNC),
            ("system", "user_id", "read", SYNC),
            ("system", "name", "write", MANAGERS, "Renamed"),
            ("shared", "name", "write", MANAGERS_ANY, "Renamed"),
            ("system", "user_id", "write", MANAGERS, False),
            ("system", None, "create", MANAGERS_ANY, {"name": "Created", "code": "matrix_created"}),
            ("system", None, "unlink", MANAGERS),
            ("system", "token_ids", "read", MANAGERS),
            ("system", "token_ids", "fields_get", MANAGERS_ANY),
            ("system", "action_generate_inbound_token", "button", MANAGERS),
            # a system of no company reaches every company: its token is the administrator's to give
            ("shared", "action_generate_inbound_token", "button", ADMIN),
            ("system", "message_ids", "read", SYNC),
        ]
        self.assert_matrix(rows, self.targets)

    def test_system_credentials(self):
        self._skip_without_test_transport()
        rows = [
            ("system", "test_secret", "read", MANAGERS),
            ("system", "test_secret", "search", MANAGERS),
            ("system", "test_secret", "read_group", MANAGERS),
            ("system", "test_secret", "fields_get", MANAGERS_ANY),
            ("system", "test_secret", "write", MANAGERS, "changed"),
        ]
        self.assert_matrix(rows, self.targets)

    def test_inbound_tokens(self):
        rows = [
            ("token", "name", "read", MANAGERS),
            ("token", "prefix", "read", MANAGERS),
            ("token", "state", "read", MANAGERS),
            ("token", "prefix", "search", MANAGERS),
            ("token", "prefix", "read_group", MANAGERS),
            ("token", "prefix", "export", MANAGERS),
            # the hash: the administrator only, and never out through an export or a write
            ("token", "token_hash", "read", ADMIN),
            ("token", "token_hash", "search", ADMIN),
            ("token", "token_hash", "read_group", ADMIN),
            ("token", "token_hash", "fields_get", ADMIN),
            ("token", "token_hash", "export", NOBODY),
            ("token", "token_hash", "write", NOBODY, "0" * 64),
            ("token", "prefix", "write", NOBODY, "forged"),
            ("token", "system_id", "write", NOBODY, self.shared.id),
            ("token", "name", "write", MANAGERS, "Renamed"),
            ("token", None, "create", NOBODY, {"name": "Typed", "prefix": "abc", "token_hash": "0" * 64}),
            ("token", None, "unlink", MANAGERS),
            ("token", "action_revoke", "button", MANAGERS),
            # a revocation is final, whoever asks
            ("revoked", "revoked_at", "write", NOBODY, False),
            ("revoked", "active", "write", MANAGERS_ANY, False),
        ]
        self.assert_matrix(rows, self.targets)

    def test_bindings(self):
        rows = [
            ("binding", "remote_ref", "read", SYNC),
            ("binding", "remote_ref", "search", SYNC),
            ("binding", "model", "read_group", SYNC),
            ("binding", "remote_ref", "export", SYNC),
            ("binding", "remote_ref", "write", MANAGERS, "43"),
            ("binding", None, "unlink", MANAGERS),
            ("binding", "action_open_record", "button", SYNC),
        ]
        self.assert_matrix(rows, self.targets)

    def test_superuser_cannot_revive_a_token_either(self):
        """The lead's rule holds for everybody: a revoked token stays revoked."""
        with self.assertRaises(UserError):
            self.revoked.sudo().write({"revoked_at": False})

    def test_credentials_are_never_copied_tracked_or_shown_to_others(self):
        self.assert_secrets_stay_put()


@tagged("post_install", "-at_install")
class TestAccessMatrixRpc(series.AllowAllRequests, AccessMatrixMixin, HttpCase):
    """The public path: the same boundary through XML-RPC ``execute_kw``."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_matrix_roles()
        cls.system = cls.env["sync.system"].create({"name": "Rpc A", "code": "matrix_rpc",
                                                    "company_id": cls.env.company.id})
        cls.system._generate_inbound_token(name="Rpc token")
        cls.token = cls.system.sudo().token_ids

    def execute(self, role, model, method, *args, **kwargs):
        """``execute_kw`` as ``role`` (its password is its login); ``(True, result)`` or ``(False, fault)``."""
        login = f"matrix_{role}"
        try:
            return True, self.xmlrpc_object.execute_kw(self.env.cr.dbname, self.roles[role].id, login, model, method,
                                                       list(args), kwargs)
        except Fault as exc:  # the server refused
            return False, exc

    def test_token_hash_over_xmlrpc(self):
        for role in ("manager", "sync_user", "internal", "portal", "other_manager"):
            with self.subTest(role=role):
                ok, answer = self.execute(role, "sync.inbound.token", "read", self.token.ids, ["token_hash"])
                self.assertFalse(ok, f"{role} read a token hash over XML-RPC: {answer}")
                ok, answer = self.execute(role, "sync.inbound.token", "search_read",
                                          [("token_hash", "!=", False)], ["prefix"])
                self.assertFalse(ok and answer, f"{role} searched on token hashes over XML-RPC: {answer}")

    def test_token_button_over_xmlrpc(self):
        for role in ("sync_user", "internal", "portal", "other_manager"):
            with self.subTest(role=role):
                ok, answer = self.execute(role, "sync.system", "action_generate_inbound_token", self.system.ids)
                self.assertFalse(ok, f"{role} generated a token over XML-RPC: {answer}")
        ok, answer = self.execute("manager", "sync.system", "action_generate_inbound_token", self.system.ids)
        self.assertTrue(ok, answer)
        self.assertTrue(answer["context"]["default_token"])
