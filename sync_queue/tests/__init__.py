from . import test_menus
from . import test_capture
from . import test_send
from . import test_inbound
from . import test_tours
from . import test_access
from . import test_routing
from . import test_leave
