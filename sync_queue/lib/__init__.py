"""Pure-Python helpers of sync_queue; nothing here imports odoo."""
