from . import test_transport_rpc
