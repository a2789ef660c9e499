"""Test and demo harness: a PostgreSQL cluster of its own and real Odoo server processes.

Nothing here imports ``odoo``: Odoo always runs in its own processes, found
as the Python package ``odoo`` or through ``ODOO_PATH`` (an Odoo source tree).
"""
