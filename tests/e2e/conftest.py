"""Fixtures of the end-to-end tier: a PostgreSQL cluster, a database template with the suite, Odoo servers.

The test command passes its cluster through ``SYNC_TEST_PGDATA`` and
``SYNC_TEST_PGPORT``; run directly (``pytest tests/e2e``), the tier makes a
cluster of its own.  Without Odoo every test here is skipped, loudly.
"""

import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.harness.odoo_env import ADDONS, TEST_ADDONS_PATH, OdooMissing, find_odoo, find_series
from tests.harness.odoo_server import SHELL_MODE_ENV, OdooInstance, OdooServer
from tests.harness.pg import PgCluster

# a test's scenarios through a shell server per database: Odoo loaded once per database, not once per scenario
# (SYNC_TEST_SHELL=once: a process per scenario, as odoo-bin shell)
os.environ.setdefault(SHELL_MODE_ENV, "serve")


def _per_series(name):
    """A template's name for the series this run works with: a database of one series is no use to the other."""
    try:
        return f"{name}_{find_series().major}"
    except OdooMissing:
        return name


SUITE_TEMPLATE = _per_series("sync_e2e_template")
# the Odoo tier's template (base and mail), named so by tests/runner.py
BASE_TEMPLATE = _per_series("sync_test_template")


def pytest_collection_modifyitems(config, items):
    try:
        find_odoo()
    except OdooMissing as exc:
        marker = pytest.mark.skip(reason=f"SKIPPED: {exc}")
        for item in items:
            item.add_marker(marker)
    if not os.environ.get("SYNC_TEST_LONG"):
        long_marker = pytest.mark.skip(reason="long test: run the test command with --long")
        for item in items:
            if "long" in item.keywords:
                item.add_marker(long_marker)


def pytest_configure(config):
    config.addinivalue_line("markers", "long: a long fault or load test, run with the test command's --long")


@pytest.fixture(scope="session")
def cluster():
    if os.environ.get("SYNC_TEST_PGDATA"):
        pg = PgCluster(os.environ["SYNC_TEST_PGDATA"], int(os.environ["SYNC_TEST_PGPORT"])).init()
        pg.start()
        yield pg
        return
    workdir = Path(tempfile.mkdtemp(prefix="sync-e2e-"))
    pg = PgCluster(workdir / "pgdata").init().start()
    yield pg
    pg.destroy()
    shutil.rmtree(workdir, ignore_errors=True)


def _test_addons():
    return sorted(p.name for p in TEST_ADDONS_PATH.iterdir() if (p / "__manifest__.py").exists())


@pytest.fixture(scope="session")
def suite_template(cluster):
    """A database with the five addons and the test addons installed, copied for each scenario."""
    if not cluster.db_exists(SUITE_TEMPLATE):
        # start from the Odoo tier's template (base and mail) when it is there
        if cluster.db_exists(BASE_TEMPLATE):
            cluster.copy_db(BASE_TEMPLATE, SUITE_TEMPLATE)
        OdooInstance(cluster, SUITE_TEMPLATE).install([*ADDONS, *_test_addons()])
    return SUITE_TEMPLATE


def _database_factory(cluster, template, with_test_addons=True):
    """``(make, created)``: ``make(label)`` copies ``template`` into a fresh database."""
    created = []

    def make(label):
        name = f"e2e_{label}_{uuid.uuid4().hex[:6]}"
        cluster.copy_db(template, name)
        instance = OdooInstance(cluster, name, with_test_addons=with_test_addons)
        created.append(instance)
        return instance

    return make, created


def _drop_databases(cluster, created):
    for instance in created:
        instance.close()
        cluster.drop_db(instance.dbname)
        shutil.rmtree(instance.data_dir, ignore_errors=True)


@pytest.fixture
def make_database(cluster, suite_template):
    """Factory: a fresh database with the suite installed; dropped after the test."""
    make, created = _database_factory(cluster, suite_template)
    yield make
    _drop_databases(cluster, created)


@pytest.fixture
def start_server():
    """Factory: start an Odoo server for an instance; every server is stopped after the test."""
    servers = []

    def start(instance, **kwargs):
        server = OdooServer(instance, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


PLAIN_TEMPLATE = _per_series("sync_e2e_plain_template")


@pytest.fixture
def make_plain_database(cluster):
    """Factory: a fresh database with Odoo's ``base`` only (nothing of the suite); dropped after the test."""
    if not cluster.db_exists(PLAIN_TEMPLATE):
        OdooInstance(cluster, PLAIN_TEMPLATE, with_test_addons=False).install(["base"])
    make, created = _database_factory(cluster, PLAIN_TEMPLATE, with_test_addons=False)
    yield make
    _drop_databases(cluster, created)


@pytest.fixture
def source_target(make_database, start_server):
    """Two databases with the suite, each served by its own Odoo process with a database filter."""
    source = make_database("source")
    target = make_database("target")
    return source, target, start_server(source), start_server(target)
