from . import faults
from . import sync_inbound_message
from . import sync_message
from . import sync_system
