from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """Rename a tag the way a migration script of a real module changes its records: through the ORM."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env.ref("sync_test_install.tag_b").name = "Install B migrated"
