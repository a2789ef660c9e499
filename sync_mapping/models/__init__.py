from . import sync_library
from . import sync_schema
from . import sync_data_type
from . import sync_data_type_serialize
from . import sync_data_type_upsert
from . import sync_mapping_line
from . import sync_condition
from . import sync_data_type_access
