"""Module installation and upgrade are captured like any other change, by real ``odoo -i`` / ``-u`` runs.

One database goes through every step, so that the test costs one template
copy: the test module is installed (it loads after the suite: captured as it
loads), upgraded to a version with a new data file and a migration script (it
loads before the suite, which is only loaded: captured at the end of the
loading), then ``-u base`` rewrites the states of its CSV file, one of which
was renamed by SQL, and leaves the countries (``noupdate``) alone.  After
each step, ``sync.change`` holds each created or changed record exactly once,
nothing else, and the queue turns them into one message each.  Every log is
free of WARNING and ERROR: capture never breaks an installation.
"""

import shutil
import time
from pathlib import Path

from tests.harness.odoo_server import log_problems

SOURCE = Path(__file__).resolve().parents[1] / "addons" / "sync_test_install"

MANIFEST = """{{
    "name": "Synchronization Test Install",
    "summary": "Installed and upgraded by the capture test only",
    "version": "{version}",
    "category": "Hidden",
    "author": "Sync Suite contributors",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["base"],
    "data": ["{data}"],
}}
"""

SETUP = r"""
Model = env["ir.model"]
library = env["sync.library"].create({"name": "Install", "slug": "install"})
system = env["sync.system"].create({"name": "Target", "code": "install", "transport": "test", "batch_size": 500})
for name, model, lines in [
    ("Tags", "res.partner.category", [("name", True)]),
    ("Countries", "res.country", [("code", True), ("name", False)]),
    ("States", "res.country.state", [("code", True), ("name", False)]),
]:
    data_type = env["sync.data.type"].create({
        "name": name, "library_id": library.id, "model_id": Model._get(model).id, "system_ids": [(6, 0, system.ids)],
        "line_ids": [(0, 0, {"line_type": "field", "value": value, "name": value, "primary": primary})
                     for value, primary in lines],
    })
    data_type.action_generate_schema()
env["sync.change"].search([]).unlink()
result = True
"""

# {xml id: [operations]} of the captured changes of the test module's tags, the countries and the states
CHANGES = r"""
result = {}
for change in env["sync.change"].search([], order="id"):
    record = env[change.model].browse(change.res_id)
    xmlid = record.exists() and record.get_external_id()[record.id] or f"{change.model},{change.res_id}"
    result.setdefault(xmlid, []).append(change.operation)
"""

# queue everything: {xml id: number of new messages}; they are then marked done, as if sent, so that the next
# step's changes make messages of their own instead of coalescing into these
QUEUE = r"""
Message = env["sync.message"]
before = Message.search([]).ids
Message._cron_create_queue(limit=100000)
new = Message.search([("id", "not in", before)])
result = {}
for message in new:
    record = env[message.model].browse(message.res_id)
    key = record.get_external_id()[record.id] or f"{message.model},{message.res_id}"
    result[key] = result.get(key, 0) + 1
env.cr.execute("UPDATE sync_message SET state = 'done' WHERE id = ANY(%s)", [new.ids])
"""


def _write_manifest(addon, version, data):
    (addon / "__manifest__.py").write_text(MANIFEST.format(version=version, data=data))


def _clean(log, label):
    problems = log_problems(log)
    assert not problems, f"{label} logged warnings or errors:\n" + "\n".join(problems[:20])


def test_module_install_and_upgrades_are_captured_once(make_database, tmp_path):
    started = time.monotonic()
    db = make_database("install")
    addon = tmp_path / "sync_test_install"
    shutil.copytree(SOURCE, addon)
    _write_manifest(addon, "18.0.1.0.0", "data/tags.xml")
    db.addons_path += f",{tmp_path}"
    assert db.shell(SETUP) is True

    # install: the module loads after the suite
    _clean(db.install(["sync_test_install"]), "-i sync_test_install")
    assert db.shell(CHANGES) == {"sync_test_install.tag_a": ["create"], "sync_test_install.tag_b": ["create"]}
    assert db.shell(QUEUE) == {"sync_test_install.tag_a": 1, "sync_test_install.tag_b": 1}

    # upgrade: new data file content and a migration script; the module (depending on base only) loads before the
    # suite
    _write_manifest(addon, "18.0.1.0.1", "data/tags_1_0_1.xml")
    _clean(db.run(["-u", "sync_test_install", "--stop-after-init"]).stderr, "-u sync_test_install")
    assert db.shell(
        "result = [env.ref(f'sync_test_install.tag_{x}').name for x in 'abc']"
    ) == ["Install A upgraded", "Install B migrated", "Install C"]
    assert db.shell(CHANGES) == {
        "sync_test_install.tag_a": ["write"],
        "sync_test_install.tag_b": ["write"],
        "sync_test_install.tag_c": ["create"],
    }
    assert db.shell(QUEUE) == {f"sync_test_install.tag_{x}": 1 for x in "abc"}

    # -u base rewrites every state of its CSV file, among them one renamed by SQL; its countries are noupdate
    before = db.shell("env.cr.execute(\"UPDATE res_country_state SET name = 'Renamed' WHERE id = %s "
                      "RETURNING (now() AT TIME ZONE 'UTC')::text\", [env.ref('base.state_us_5').id])\n"
                      "result = env.cr.fetchone()[0]\n")
    _clean(db.run(["-u", "base", "--stop-after-init"]).stderr, "-u base")
    assert db.shell("result = env.ref('base.state_us_5').name") == "California"
    changes = db.shell(CHANGES)
    assert changes.get("base.state_us_5") == ["write"]
    # exactly what the upgrade wrote of the synchronized models: the states, not the countries
    written = db.shell(f"result = sorted(xmlid for model in ('res.country.state', 'res.country') for xmlid in "
                       f"env[model].search([('write_date', '>', '{before}')]).get_external_id().values())\n")
    assert len(written) > 1000 and "base.state_us_5" in written and "base.us" not in written
    assert {key for key in changes if not key.startswith("sync_test_install.")} == set(written)
    assert all(ops == ["write"] for ops in changes.values()), {k: v for k, v in changes.items() if v != ["write"]}
    queued = db.shell(QUEUE)
    assert set(queued) == set(changes) and set(queued.values()) == {1}
    print(f"install, upgrade and -u base captured in {time.monotonic() - started:.0f}s")


def test_installing_the_suite_with_a_module_loaded_before_it_logs_nothing_wrong(make_plain_database, tmp_path):
    """The suite and a module that loads before it, in one run on a fresh database: capture starts mid-run
    without a warning, and the end of the loading has nothing to capture (nothing is configured yet)."""
    started = time.monotonic()
    db = make_plain_database("install_fresh")
    addon = tmp_path / "sync_test_install"
    shutil.copytree(SOURCE, addon)
    _write_manifest(addon, "18.0.1.0.0", "data/tags.xml")
    db.addons_path += f",{tmp_path}"
    log = db.install(["sync_queue", "sync_test_install"], extra=["--log-level=info"])
    _clean(log, "-i sync_queue,sync_test_install")
    assert log.index("Loading module sync_test_install") < log.index("Loading module sync_queue")
    assert db.shell("result = [env['sync.change'].search_count([]), env.ref('sync_test_install.tag_a').name]") == [
        0, "Install A"]
    print(f"fresh install in {time.monotonic() - started:.0f}s")
