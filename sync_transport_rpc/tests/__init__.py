from . import test_transport_rpc
from . import test_pull
from . import test_shared_schema
from . import test_suite_retry
from . import test_access_matrix
from . import test_remote_fields
from . import test_settings_units
