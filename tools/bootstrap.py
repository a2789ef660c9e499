"""The set-up step of the two commands: install the Python distributions they need and lack.

    python3 tools/bootstrap.py run     (bin/run: the suite's dependencies)
    python3 tools/bootstrap.py test    (bin/test: the same and the test tools)

The distributions are those of ``setup.cfg`` (``install_requires`` and, for
the tests, the ``test`` extra).  They are looked up in the Python that runs
this file, the one the commands run Odoo with; only the missing or too old
ones are installed, with ``python -m pip install``.  When everything is
there, this costs a few metadata look-ups and no pip call.

Nothing here imports Odoo nor a third-party module: the decision of what is
missing (:func:`missing_requirements`) is a pure function.
"""

import configparser
import importlib.metadata
import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETUP_CFG = ROOT / "setup.cfg"
REQUIREMENT_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:(>=|==)\s*([0-9][0-9A-Za-z.]*))?\s*$")
# the module a distribution is imported as, where it is not its name with underscores
IMPORT_NAMES = {"websocket-client": "websocket"}
WHY = {"run": "the suite's Python dependencies", "test": "the suite's Python dependencies and the test tools"}


class BootstrapError(RuntimeError):
    """What the set-up could not do, said in a sentence or two for the person who ran the command."""


def parse_requirement(text):
    """``"jsonschema>=4.0"`` -> ``("jsonschema", ">=", (4, 0))``; only ``>=``, ``==`` or no version are used here."""
    match = REQUIREMENT_RE.match(text)
    if not match:
        raise ValueError(f"setup.cfg: cannot read the requirement {text!r} (expected NAME, NAME>=X.Y or NAME==X.Y)")
    name, operator, version = match.groups()
    return normalize(name), operator, version_tuple(version) if version else None


def normalize(name):
    """A distribution's name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def version_tuple(version):
    """The leading numeric release of a version (``"7.6.0"`` -> ``(7, 6, 0)``, ``"2.0rc1"`` -> ``(2, 0)``)."""
    numbers = []
    for part in version.split("."):
        digits = re.match(r"\d+", part)
        if not digits:
            break
        numbers.append(int(digits.group()))
        if digits.group() != part:
            break
    return tuple(numbers)


def _satisfies(installed, operator, wanted):
    if operator is None or wanted is None:
        return True
    if installed is None:
        # importable without metadata (vendored, or a distribution's own packaging): no version to compare
        return True
    width = max(len(installed), len(wanted))
    have, want = installed + (0,) * (width - len(installed)), wanted + (0,) * (width - len(wanted))
    return have >= want if operator == ">=" else have == want


def missing_requirements(requirements, installed):
    """The requirements (their text, in order) that ``installed`` does not satisfy.

    ``requirements``: texts such as ``"inflect>=5.0"``; ``installed``: ``{normalized name: version tuple, or None
    when the distribution is importable but has no version}``; a name absent from it is not installed.
    """
    missing = []
    for text in requirements:
        name, operator, wanted = parse_requirement(text)
        if name not in installed or not _satisfies(installed[name], operator, wanted):
            missing.append(text.strip())
    return missing


def requirements(purpose):
    """The requirement texts of ``setup.cfg`` for ``purpose`` (``"run"`` or ``"test"``)."""
    config = configparser.ConfigParser()
    config.read(SETUP_CFG)
    lines = config.get("options", "install_requires").splitlines()
    if purpose == "test":
        lines += config.get("options.extras_require", "test").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def installed_versions(names):
    """``{normalized name: version tuple or None}`` of the distributions among ``names`` this Python has."""
    found = {}
    for name in names:
        try:
            found[name] = version_tuple(importlib.metadata.version(name))
            continue
        except importlib.metadata.PackageNotFoundError:
            pass
        if importlib.util.find_spec(IMPORT_NAMES.get(name, name.replace("-", "_"))) is not None:
            found[name] = None
    return found


def pip_command(specs):
    return [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", *specs]


def missing(purpose):
    """The requirements of ``purpose`` this Python lacks (or has too old), as texts of ``setup.cfg``."""
    wanted = requirements(purpose)
    return missing_requirements(wanted, installed_versions([parse_requirement(text)[0] for text in wanted]))


def install(specs, purpose, say=print):
    """Install ``specs`` with this Python's pip, saying in one line what and why.

    Raises :class:`BootstrapError` saying what failed and the command to run by hand.
    """
    command = pip_command(specs)
    say(f"Installing {', '.join(specs)} ({WHY[purpose]}, missing from {sys.executable}) ...")
    try:
        proc = subprocess.run(command, capture_output=True, text=True, check=False, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BootstrapError(_failure(command, str(exc))) from exc
    if proc.returncode != 0:
        output = (proc.stderr or proc.stdout).strip().splitlines()
        errors = [line.strip() for line in output if line.strip().startswith("ERROR")]
        raise BootstrapError(_failure(command, (errors or output or ["pip said nothing"])[-1].strip()))


def _failure(command, reason):
    if "No module named pip" in reason:
        # a Python without pip (Debian's python3 without python3-pip): pip first
        return (f"Could not install the missing Python distributions: {sys.executable} has no pip. Install pip "
                f"first, then run the command again:\n    {shlex.quote(sys.executable)} -m ensurepip --upgrade\n"
                f"    (or: apt-get install python3-pip)\nthen, if the command still lacks them:\n"
                f"    {shlex.join(command)}")
    return (f"Could not install the missing Python distributions with pip ({reason}). "
            f"Install them yourself, then run the command again:\n    {shlex.join(command)}")


def odoo_missing():
    """The sentence saying what to install when this Python cannot import Odoo 18.0, or None."""
    sys.path.insert(0, str(ROOT))
    from tests.harness.odoo_env import OdooMissing, find_odoo  # it imports nothing beyond the standard library

    try:
        find_odoo()
    except OdooMissing as exc:
        return str(exc)
    return None


def main(argv=None):
    """``run``: Odoo must be there (one sentence if not) and the dependencies are installed; ``test``: the same
    dependencies and the test tools, whether Odoo is there or not (the test command skips its Odoo tiers, loudly)."""
    args = sys.argv[1:] if argv is None else argv
    purpose = args[0] if args else "run"
    if purpose not in WHY or len(args) > 1:
        print(f"usage: {sys.argv[0]} run|test", file=sys.stderr)
        return 2
    try:
        specs = missing(purpose)
        # nothing to install for a demo that cannot start, and no traceback from the run command's import of
        # psycopg2 (an Odoo requirement): say what to install for Odoo first
        if purpose == "run" and (specs or importlib.util.find_spec("psycopg2") is None):
            reason = odoo_missing()
            if reason:
                print(reason, flush=True)
                return 2
        if specs:
            install(specs, purpose, say=lambda text: print(text, flush=True))
    except (BootstrapError, ValueError, configparser.Error) as exc:
        print(exc, flush=True)
        return 2
    except KeyboardInterrupt:
        print("\nInterrupted. Run the command again to go on.", flush=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
