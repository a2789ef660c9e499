from . import test_menus
from . import test_views
from . import test_serialize
from . import test_upsert
from . import test_checks
from . import test_conditions
from . import test_schema_export
from . import test_access_matrix
