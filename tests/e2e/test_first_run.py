"""A first run as a new user makes it: the README's two commands do the whole set-up, and a run interrupted while
installing leaves nothing the next run builds on.

Both tests are long (minutes: real installations, real pip installs): ``bin/test --long``.
"""

import importlib.metadata
import os
import re
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import psycopg2
import pytest

from tests.e2e.conftest import ROOT
from tests.harness.odoo_server import OdooCommandError
from tests.harness.pg import PgError, ensure_system_postgres, free_port
from tools.run import INSTALLING, MODULES, SOURCE_DB, TARGET_DB, MachinePostgres, cron_processes
from tools.run_checks import database_problem

from .test_demo import ROW_RE

# what the suite needs and Odoo does not: absent from the new environment, installed by the commands
SUITE_ONLY = ("inflect", "jsonschema", "pytest", "pytest-timeout", "hypothesis", "ruff", "pylint-odoo",
              "websocket-client")


def machine_postgres():
    try:
        return MachinePostgres(ensure_system_postgres(log=lambda _text: None))
    except (PgError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"SKIPPED: the machine's PostgreSQL cannot be started here: {exc}")


def table(output):
    return {m["type"].strip(): (int(m["sent"]), int(m["done"]), int(m["failed"])) for m in ROW_RE.finditer(output)}


def wait_half_installed(pg, dbname, proc, timeout=600):
    """Wait until ``dbname`` holds a part of its modules installed and the rest still to install."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "bin/run ended before it was interrupted"
        if pg.exists(dbname):
            modules = pg.modules(dbname) or {}
            states = [state for state, _version in modules.values()]
            if states.count("installed") >= 5 and "to install" in states:
                return states.count("installed"), states.count("to install")
        time.sleep(0.2)
    raise AssertionError(f"{dbname} never was half-installed within {timeout} s")


def test_the_run_stops_at_once_when_odoos_cron_workers_skip_its_database(cluster, make_database, start_server):
    pg = MachinePostgres(cluster.odoo_args())
    instance = make_database("cronskip")
    server = start_server(instance, cron_threads=1)
    started = time.monotonic()
    cron_processes(pg, server, timeout=120)
    assert time.monotonic() - started < 60, "a sound database: its queue's scheduler ran"
    # what the database of issue 26 was: base without an installed version, which Odoo's cron workers skip
    pg.execute(instance.dbname, "UPDATE ir_module_module SET latest_version = NULL WHERE name = 'base'")
    started = time.monotonic()
    with pytest.raises(OdooCommandError) as caught:
        cron_processes(pg, server, timeout=300)
    assert time.monotonic() - started < 30, "at once, not after the timeout"
    assert str(caught.value).startswith(f"Odoo's cron workers skip {instance.dbname}: its modules are left to "
                                        "install, upgrade or remove, or its base module has no installed version")
    assert f"Skipping database {instance.dbname} because of modules to install/upgrade/remove" in str(caught.value)


@pytest.mark.long
def test_a_run_killed_while_installing_is_followed_by_a_run_that_sends_everything(tmp_path):
    pg = machine_postgres()
    subprocess.run([str(ROOT / "bin" / "run"), "--stop"], capture_output=True, timeout=120, check=True)
    # a first run: nothing of an earlier one
    for dbname in (SOURCE_DB, TARGET_DB, SOURCE_DB + INSTALLING, TARGET_DB + INSTALLING):
        pg.drop(dbname)
    ports = ["--source-port", str(free_port()), "--target-port", str(free_port()), "--broker-port", str(free_port())]
    args = [str(ROOT / "bin" / "run"), "--companies", "2", "--products", "3", "--orders", "0", *ports]
    try:
        with (tmp_path / "first.log").open("w") as out:
            first = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                installed, to_install = wait_half_installed(pg, SOURCE_DB + INSTALLING, first)
            finally:
                # the run and the Odoo installing for it, at once, as a closed terminal or an OOM kill would
                os.killpg(first.pid, signal.SIGKILL)
                first.wait(60)
        assert installed and to_install
        # the killed installation is not under the demo's name: nothing there to build on
        assert not pg.exists(SOURCE_DB)
        # what a bin/run that installed in place left (issue 26): the same half-installed database under the demo's
        # name; copied from the interrupted one as soon as its sessions are gone
        for _attempt in range(50):
            try:
                pg.execute("postgres", f'CREATE DATABASE "{SOURCE_DB}" TEMPLATE "{SOURCE_DB + INSTALLING}"')
                break
            except psycopg2.Error:  # the killed installation's session may still be closing
                time.sleep(0.2)
        assert database_problem(pg.modules(SOURCE_DB), MODULES), "the copy is half-installed, as it should be"

        second = subprocess.run(args, capture_output=True, text=True, timeout=1500, check=False)
        output = second.stdout + second.stderr
        assert second.returncode == 0, output
        assert f"Dropping {SOURCE_DB + INSTALLING}: the installation of an earlier run that was interrupted." in output
        # killed after base was installed: the modules after it are left to install
        assert f"{SOURCE_DB} cannot be reused: modules are left to install, upgrade or remove (" in output, output
        assert f"Creating {SOURCE_DB} with the suite installed" in output
        assert f"Checking that Odoo's cron workers process {SOURCE_DB}" in output
        # the tags are new in the new databases: sent too
        assert table(second.stdout) == {"Companies and contacts": (10, 10, 0), "Contact tags": (2, 2, 0),
                                        "Products": (3, 3, 0)}, output
        assert "Traceback" not in output
        # the databases are sound and usable afterwards
        for dbname in (SOURCE_DB, TARGET_DB):
            assert database_problem(pg.modules(dbname), MODULES) is None
            assert not pg.exists(dbname + INSTALLING)
        assert pg.query(SOURCE_DB, "SELECT count(*) FROM sync_message WHERE state != 'done'") == [(0,)]
    finally:
        subprocess.run([str(ROOT / "bin" / "run"), "--stop"], capture_output=True, timeout=120, check=False)


def odoo_only_environment(path):
    """A new virtual environment whose Python imports Odoo and its requirements but none of ``SUITE_ONLY``.

    Odoo's requirements are this machine's (linked from its site-packages, without the suite's distributions),
    so that the environment is built in seconds; what the suite needs is genuinely absent from it.
    """
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True, timeout=300)
    site_packages = Path(sysconfig.get_paths()["purelib"])
    excluded = {"__pycache__"}
    hidden = set()
    for name in (*SUITE_ONLY, "sync-suite-dev"):
        try:
            files = importlib.metadata.distribution(name).files or []
        except importlib.metadata.PackageNotFoundError:
            continue
        hidden |= {f.parts[0] for f in files if not f.parts[0].startswith("..")} - excluded
    hidden |= {p.name for p in site_packages.glob("__editable__*sync_suite_dev*")}
    odoo_site = path / "odoo-site"
    odoo_site.mkdir()
    for entry in site_packages.iterdir():
        if entry.name not in hidden:
            (odoo_site / entry.name).symlink_to(entry)
    venv_site = next((path / "lib").glob("python3*/site-packages"))
    # processed like a site directory: Odoo's editable install is a .pth file there
    (venv_site / "odoo-site.pth").write_text(f"import site; site.addsitedir({str(odoo_site)!r})\n")
    return path / "bin"


@pytest.mark.long
def test_the_two_commands_install_what_a_new_environment_with_odoo_lacks(tmp_path):
    bindir = odoo_only_environment(tmp_path / "venv")
    python = str(bindir / "python3")
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}", VIRTUAL_ENV=str(tmp_path / "venv"))
    env.pop("PYTHONPATH", None)
    probe = "import importlib.util as u, odoo; print(*[u.find_spec(m) is None for m in ('inflect', 'jsonschema', " \
            "'pytest', 'ruff')])"
    before = subprocess.run([python, "-c", probe], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert before.returncode == 0, before.stderr
    assert before.stdout.split() == ["True"] * 4, "Odoo is importable there and the suite's distributions are not"

    # bin/run: the suite's dependencies, into the environment's Python (the one that runs Odoo), then the demo
    machine_postgres()
    ports = ["--source-port", str(free_port()), "--target-port", str(free_port()), "--broker-port", str(free_port())]
    try:
        ran = subprocess.run([str(ROOT / "bin" / "run"), "--companies", "1", "--products", "1", "--orders", "0",
                              *ports], capture_output=True, text=True, env=env, timeout=1500, check=False)
    finally:
        subprocess.run([str(ROOT / "bin" / "run"), "--stop"], capture_output=True, env=env, timeout=120, check=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.startswith("Installing jsonschema>=4.0, inflect>=5.0 (the suite's Python dependencies, "
                                 f"missing from {bindir}"), ran.stdout
    sent = table(ran.stdout)
    assert sent["Companies and contacts"] == (5, 5, 0) and sent["Products"] == (1, 1, 0), ran.stdout

    # bin/test: the test tools only (the dependencies are there now), then a tier that needs them all
    tested = subprocess.run([str(ROOT / "bin" / "test"), "--tier", "pure"], capture_output=True, text=True,
                            env=env, timeout=1800, check=False)
    output = tested.stdout + tested.stderr
    first_line = tested.stdout.splitlines()[0]
    assert first_line.startswith("Installing pytest>=7, pytest-timeout, hypothesis>=6, ruff>=0.6, pylint-odoo>=9, "
                                 "websocket-client (the suite's Python dependencies and the test tools"), first_line
    assert "inflect" not in first_line and "docutils" not in first_line, "what is there is not installed again"
    assert tested.returncode == 0, output[-5000:]
    assert re.fullmatch(r"[1-9]\d* passed, 0 failed, \d+ skipped", tested.stdout.splitlines()[-1]), output[-5000:]

    # installed where that Python finds them, in the new environment, not in the machine's
    where = subprocess.run([python, "-c", ("import inflect, jsonschema, pytest, pylint_odoo; "
                                          "print(inflect.__file__, pylint_odoo.__file__)")],
                           capture_output=True, text=True, env=env, timeout=120, check=False)
    assert where.returncode == 0, where.stderr
    assert all(path.startswith(str(tmp_path / "venv" / "lib")) for path in where.stdout.split()), where.stdout

    # and again: everything is there, nothing is installed, no pip call
    again = subprocess.run([str(ROOT / "bin" / "run"), "--stop"], capture_output=True, text=True, env=env,
                           timeout=300, check=False)
    assert again.returncode == 0 and "Installing" not in again.stdout, again.stdout
