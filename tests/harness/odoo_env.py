"""Find the Odoo series on this machine (18.0, 19.0) and build the commands that run them.

The Python that runs the harness finds one series by importing ``odoo``
(or from ``ODOO_PATH``, a source tree); a second series lives in its own
virtual environment, named by ``ODOO19_PATH`` (its source tree) and
``ODOO19_PYTHON`` (its interpreter).  ``SYNC_TEST_SERIES`` (``18.0`` or
``19.0``) chooses the series a process of the harness works with; without
it, the first one found.
"""

import functools
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ADDONS = ("sync_base", "sync_mapping", "sync_queue", "sync_transport_wso2", "sync_transport_rpc")
TEST_ADDONS_PATH = REPO_ROOT / "tests" / "addons"
SUPPORTED = (18, 19)
SERIES_ENV = "SYNC_TEST_SERIES"
MISSING_ODOO = (
    "Odoo 18.0 or 19.0 is not installed: install its source and requirements so that "
    "`python3 -c 'import odoo'` works, or set ODOO_PATH to an Odoo source tree "
    "(for 19.0 in a virtual environment of its own: ODOO19_PATH and ODOO19_PYTHON)."
)


class OdooMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Series:
    """One Odoo series on this machine: its major version, interpreter, source tree and extra PYTHONPATH."""

    major: int
    python: str
    root: Path
    extra_pythonpath: str | None

    @property
    def name(self):
        return f"{self.major}.0"

    def no_demo_args(self):
        """The options that install without demonstration data: 19.0 has none by default, and reads
        ``--without-demo`` as a boolean (``all`` is a warning there)."""
        return [] if self.major >= 19 else ["--without-demo=all"]


def _probe(python, python_path):
    env = dict(os.environ)
    if python != sys.executable:
        # another virtual environment: nothing of this one's PYTHONPATH (another Odoo, perhaps)
        env.pop("PYTHONPATH", None)
    if python_path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [python_path, env.get("PYTHONPATH")]))
    try:
        proc = subprocess.run(
            [python, "-c", "import odoo.release as r, os; print(r.version_info[0], os.path.dirname(r.__file__))"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
            cwd="/",
        )
    except (subprocess.TimeoutExpired, OSError):
        return None
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    major, path = proc.stdout.split(None, 1)
    return Series(int(major), python, Path(path.strip()).resolve().parent, python_path)


@functools.cache
def _find_all(odoo_path, odoo19_path, odoo19_python):
    found = {}
    first = _probe(sys.executable, odoo_path)
    if first and first.major in SUPPORTED:
        found[first.major] = first
    if odoo19_path or odoo19_python:
        other = _probe(odoo19_python or sys.executable, odoo19_path)
        if other and other.major == 19:
            found.setdefault(19, other)
    return tuple(found[major] for major in sorted(found))


def find_all_series():
    """Every supported series found, oldest first; the first is the one ``python3`` imports."""
    return _find_all(os.environ.get("ODOO_PATH"), os.environ.get("ODOO19_PATH"), os.environ.get("ODOO19_PYTHON"))


def what_was_found():
    """One line for the test command's output: the series found and where, or why none."""
    series = find_all_series()
    if not series:
        return "no Odoo series found"
    return "; ".join(f"Odoo {s.name} at {s.root} ({s.python})" for s in series)


def find_series(name=None):
    """The series named ``name`` (default: ``SYNC_TEST_SERIES``, else the first found), or :class:`OdooMissing`."""
    name = name or os.environ.get(SERIES_ENV)
    found = find_all_series()
    if not found:
        first = _probe(sys.executable, os.environ.get("ODOO_PATH"))
        if first:
            raise OdooMissing(f"Odoo {first.name} was found at {first.root}, but the suite needs Odoo 18.0 or 19.0. "
                              + MISSING_ODOO)
        raise OdooMissing(MISSING_ODOO)
    if not name:
        return found[0]
    for series in found:
        if series.name == name:
            return series
    raise OdooMissing(f"Odoo {name} was asked for ({SERIES_ENV}), but only {what_was_found()}.")


def find_odoo():
    """Return ``(source_root, extra_pythonpath)`` of the series this process works with, or raise OdooMissing."""
    series = find_series()
    return series.root, series.extra_pythonpath


def odoo_available():
    try:
        find_series()
    except OdooMissing:
        return False
    return True


def addons_path(root, with_tests=False):
    paths = [str(root / "odoo" / "addons"), str(root / "addons"), str(REPO_ROOT)]
    if with_tests:
        paths.append(str(TEST_ADDONS_PATH))
    return ",".join(p for p in paths if Path(p).is_dir())


def odoo_command(args, python=None):
    """The argv that runs Odoo's command line with ``args``, with the interpreter of this process's series."""
    return [python or find_series().python, "-m", "odoo", *args]


def odoo_environ(extra_pythonpath=None):
    env = dict(os.environ)
    if find_series().python != sys.executable:
        env.pop("PYTHONPATH", None)
    env["TZ"] = "UTC"
    env.setdefault("PYTHONUNBUFFERED", "1")
    if extra_pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [extra_pythonpath, env.get("PYTHONPATH")]))
    return env
