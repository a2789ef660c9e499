"""The run command's decisions: which demo database is reused, when Odoo's cron workers skip one, why nothing was
sent."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.harness.odoo_server import OdooServer
from tools.run_checks import (
    cron_problem,
    database_problem,
    databases_to_recreate,
    demo_databases,
    demo_protocol,
    filestore_problem,
    scheduler_problem,
    why_no_messages,
)

SUITE = ["sync_base", "sync_queue"]
SOUND = {"base": ("installed", "18.0.1.3"), "sync_base": ("installed", "18.0.1.0.0"),
         "sync_queue": ("installed", "18.0.1.0.0"), "sale": ("uninstalled", None)}


def test_a_sound_database_is_reused():
    assert database_problem(SOUND, SUITE) is None


def test_the_issue_database_base_without_latest_version_is_not_reused():
    # what a bin/run stopped by an ImportError left: base 'to install', no latest_version
    modules = dict(SOUND, base=("to install", None), sync_queue=("to install", None))
    assert "base module has no installed version" in database_problem(modules, SUITE)


def test_a_database_of_another_series_is_not_reused_and_says_why():
    assert database_problem(SOUND, SUITE, "18.0") is None
    problem = database_problem(SOUND, SUITE, "19.0")
    assert problem.startswith("it was made by Odoo 18.0 (base 18.0.1.3) and Odoo 19.0 is to serve it")
    assert "migration" in problem
    made_by_19 = {name: (state, version and "19" + version[2:]) for name, (state, version) in SOUND.items()}
    assert database_problem(made_by_19, SUITE, "19.0") is None
    assert "made by Odoo 19.0" in database_problem(made_by_19, SUITE, "18.0")
    # the series is checked once the installation is known complete: a half-made database says that first
    assert "no installed version" in database_problem(dict(SOUND, base=("to install", None)), SUITE, "19.0")


def test_each_pair_of_series_has_databases_of_its_own():
    # between two 18.0 databases, the names of the runs before series existed
    assert demo_databases("18.0", "18.0") == ("sync_demo_source", "sync_demo_target")
    pairs = [demo_databases(source, target) for source in ("18.0", "19.0") for target in ("18.0", "19.0")]
    assert len({name for pair in pairs for name in pair}) == 8, pairs
    assert demo_databases("19.0", "19.0") == ("sync_demo_source_19", "sync_demo_target_19")
    assert demo_databases("18.0", "19.0") == ("sync_demo_source_18_to_19", "sync_demo_target_18_to_19")


def test_the_protocol_follows_the_targets_series():
    assert demo_protocol("19.0") == "json2"
    assert demo_protocol("18.0") == "jsonrpc"


def test_modules_left_to_install_upgrade_or_remove_are_named():
    modules = dict(SOUND, sync_queue=("to upgrade", "18.0.1.0.0"), sale=("to install", None))
    problem = database_problem(modules, SUITE)
    assert "left to install, upgrade or remove (sale, sync_queue)" in problem


def test_a_database_without_the_suite_or_not_odoos_is_not_reused():
    assert database_problem(dict(SOUND, sync_queue=("uninstalled", None)), SUITE) == \
        "the suite is not installed in it (sync_queue missing)"
    assert database_problem(None, SUITE) == "it is not an Odoo database"


LOG = """\
2026-12-04 03:00:00,001 4242 INFO sync_demo_source odoo.modules.loading: loading 1 modules...
2026-12-04 03:00:01,002 4242 WARNING ? odoo.addons.base.models.ir_cron: Skipping database sync_demo_other because \
of modules to install/upgrade/remove.
"""


def test_a_skipped_database_is_read_from_odoos_log_for_that_database_only():
    assert cron_problem(LOG, "sync_demo_source") is None
    skipped = LOG + ("2026-12-04 03:00:02,003 4242 WARNING ? odoo.addons.base.models.ir_cron: Skipping database "
                     "sync_demo_source because of modules to install/upgrade/remove.\n")
    problem = cron_problem(skipped, "sync_demo_source")
    assert problem.startswith("Odoo's cron workers skip sync_demo_source: its modules are left to install")
    assert "Skipping database sync_demo_source because" in problem


def test_a_database_of_another_odoo_version_is_told_apart():
    log = ("2026-12-04 03:00:02,003 4242 WARNING ? odoo.addons.base.models.ir_cron: Skipping database "
           "sync_demo_source as its base version is not 18.0.1.3.\n")
    assert "another version of Odoo" in cron_problem(log, "sync_demo_source")


def test_why_no_message_names_the_cause():
    assert "no data type is enabled" in why_no_messages(5, 0, True)
    assert "188 change(s) were captured but the queue's scheduler" in why_no_messages(188, 3, False)
    assert "turned none into a message" in why_no_messages(3, 3, True)
    assert "no change of the demo records was captured" in why_no_messages(0, 3, True)


def test_when_one_demo_database_is_created_again_so_is_the_other():
    assert databases_to_recreate({"src": None, "tgt": None}) == {}
    plan = databases_to_recreate({"src": None, "tgt": "it does not exist"})
    assert plan["tgt"] == "it does not exist"
    # the sound one too: its bindings point at the records of the old twin
    assert "tgt is created again" in plan["src"] and "bindings" in plan["src"]
    plan = databases_to_recreate({"src": "it is not an Odoo database", "tgt": "it does not exist"})
    assert plan == {"src": "it is not an Odoo database", "tgt": "it does not exist"}


def test_a_database_whose_stored_files_are_gone_is_broken():
    assert filestore_problem([], set()) is None
    assert filestore_problem(["ab/ab12", "cd/cd34"], {"ab/ab12", "cd/cd34"}) is None
    problem = filestore_problem(["ab/ab12", "cd/cd34"], {"ab/ab12"})
    assert problem.startswith("1 of 2 of its stored files checked are missing from its filestore (e.g. cd/cd34)")


def test_a_deleted_or_inactive_scheduler_is_said_with_the_database():
    assert scheduler_problem([(7, True)], "db1") is None
    assert "is missing in db1: it was deleted" in scheduler_problem([], "db1")
    assert "is inactive in db1" in scheduler_problem([(7, False)], "db1")


def test_a_servers_log_is_what_it_wrote_not_what_earlier_servers_appended(tmp_path):
    # Odoo appends to --logfile: an earlier start's skip line must not stop a healthy run
    logfile = tmp_path / "source.log"
    skipped = ("2026-12-04 03:00:02,003 4242 WARNING ? odoo.addons.base.models.ir_cron: Skipping database "
               "sync_demo_source because of modules to install/upgrade/remove.\n")
    logfile.write_text(LOG + skipped)
    server = OdooServer(instance=None, port=1, logfile=logfile)
    server.mark_log_start()
    with logfile.open("a") as log:
        log.write("2026-12-04 04:00:00,001 4343 INFO sync_demo_source odoo.service.server: HTTP service running\n")
    assert server.log_tail(200_000).startswith("2026-12-04 04:00:00,001 4343 INFO")
    assert cron_problem(server.log_tail(200_000), "sync_demo_source") is None
    with logfile.open("a") as log:
        log.write(skipped)
    assert cron_problem(server.log_tail(200_000), "sync_demo_source").startswith("Odoo's cron workers skip")
