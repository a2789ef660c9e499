from . import test_transport_wso2
from . import test_broker
from . import test_access_matrix
from . import test_settings_units
from . import test_compare
