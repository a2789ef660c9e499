"""Find Odoo 18.0 and build the commands that run it."""

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ADDONS = ("sync_base", "sync_mapping", "sync_queue", "sync_transport_wso2", "sync_transport_rpc")
TEST_ADDONS_PATH = REPO_ROOT / "tests" / "addons"
MISSING_ODOO = (
    "Odoo 18.0 is not installed: install its source and requirements so that "
    "`python3 -c 'import odoo'` works, or set ODOO_PATH to an Odoo 18.0 source tree."
)


class OdooMissing(RuntimeError):
    pass


def _probe(python_path):
    env = dict(os.environ)
    if python_path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [python_path, env.get("PYTHONPATH")]))
    try:
        proc = subprocess.run(
            [sys.executable, "-c", "import odoo, odoo.release as r; print(r.version_info[0], odoo.__file__)"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0:
        return None
    major, path = proc.stdout.split(None, 1)
    return int(major), Path(path.strip()).resolve().parents[1]


def find_odoo():
    """Return ``(source_root, extra_pythonpath)`` for Odoo 18.0, or raise :class:`OdooMissing`."""
    odoo_path = os.environ.get("ODOO_PATH")
    found = _probe(odoo_path) if odoo_path else _probe(None)
    if not found:
        raise OdooMissing(MISSING_ODOO)
    major, root = found
    if major != 18:
        raise OdooMissing(f"Odoo {major} was found at {root}, but the suite needs Odoo 18.0. " + MISSING_ODOO)
    return root, odoo_path


def odoo_available():
    try:
        find_odoo()
    except OdooMissing:
        return False
    return True


def addons_path(root, with_tests=False):
    paths = [str(root / "odoo" / "addons"), str(root / "addons"), str(REPO_ROOT)]
    if with_tests:
        paths.append(str(TEST_ADDONS_PATH))
    return ",".join(p for p in paths if Path(p).is_dir())


def odoo_command(args, python=sys.executable):
    """The argv that runs Odoo's command line with ``args``."""
    return [python, "-m", "odoo", *args]


def odoo_environ(extra_pythonpath=None):
    env = dict(os.environ)
    env["TZ"] = "UTC"
    env.setdefault("PYTHONUNBUFFERED", "1")
    if extra_pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [extra_pythonpath, env.get("PYTHONPATH")]))
    return env
