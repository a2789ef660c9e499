from . import test_sync_system
from . import test_inbound_token
from . import test_system_guard
from . import test_access
from . import test_binding
from . import test_views
from . import test_access_matrix
from . import test_settings_units
