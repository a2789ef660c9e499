from . import sync_system
