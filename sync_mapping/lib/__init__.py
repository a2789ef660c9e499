"""Pure-Python helpers of sync_mapping; nothing here imports odoo."""
