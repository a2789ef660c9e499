from . import sync_system
from . import sync_test_transport_call
from . import sync_transport
