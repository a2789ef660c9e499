"""Load the addons' pure-Python ``lib`` packages without importing Odoo.

Importing ``sync_base.lib`` the usual way would run ``sync_base/__init__.py``,
which imports Odoo models; the ``lib`` folders import nothing of Odoo, so they
are loaded here as top-level packages named ``<addon>_lib``.
"""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_lib(addon):
    name = f"{addon}_lib"
    if name in sys.modules:
        return sys.modules[name]
    lib_dir = ROOT / addon / "lib"
    spec = importlib.util.spec_from_file_location(
        name, lib_dir / "__init__.py", submodule_search_locations=[str(lib_dir)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


load_lib("sync_base")
load_lib("sync_mapping")
load_lib("sync_queue")
load_lib("sync_transport_rpc")
load_lib("sync_transport_wso2")
