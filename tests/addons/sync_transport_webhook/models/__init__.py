from . import sync_system
from . import sync_transport
