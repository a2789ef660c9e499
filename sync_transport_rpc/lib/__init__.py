"""Pure-Python helpers of sync_transport_rpc; nothing here imports odoo."""
