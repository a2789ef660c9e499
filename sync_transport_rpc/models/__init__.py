from . import sync_system
from . import sync_data_type
from . import sync_rpc_plain
from . import sync_rpc_watermark
from . import sync_transport
