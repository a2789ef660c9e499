from odoo.tests import TransactionCase

from odoo.addons.sync_base import compat


class RpcCase(TransactionCase):
    """A system of transport ``rpc`` pointing at a closed port, and a synchronization user."""

    system_code = "remote_rpc"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.user = cls.env["res.users"].create({
            "name": "Sync user", "login": f"sync_user_{cls.system_code}",
            compat.GROUP_IDS: [(6, 0, [cls.env.ref("base.group_user").id, cls.env.ref("base.group_partner_manager").id,
                                  cls.env.ref("sync_base.group_sync_user").id])],
        })
        cls.system = cls.env["sync.system"].create({
            "name": "Remote", "code": cls.system_code, "transport": "rpc", "rpc_protocol": "jsonrpc",
            "rpc_host": "127.0.0.1", "rpc_port": 9, "rpc_database": "remote", "rpc_login": "sync",
            "rpc_password": "s3cret-key", "timeout": 2,
        })
