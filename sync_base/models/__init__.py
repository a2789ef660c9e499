from . import sync_credentials_mixin
from . import sync_transport
from . import sync_system
from . import sync_system_guard
from . import sync_inbound_token
from . import sync_binding
from . import res_config_settings
