from . import sync_preview
from . import sync_library_export
from . import sync_library_import
