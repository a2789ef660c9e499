"""Pure-Python helpers of the synchronization suite.

Nothing in this package imports ``odoo``: the JSON codec, the envelope, the
transport results and the inbound tokens are plain functions and classes that
the addons use and that ``tests/pure`` exercises without a database.
"""
