"""The harness itself: two databases, two servers, real commits read back over JSON-RPC."""

import pytest

from tests.harness.odoo_env import ADDONS
from tests.harness.odoo_server import JsonRpcError


def test_two_databases_with_the_suite_answer(source_target):
    source, target, source_server, target_server = source_target
    assert source_server.port != target_server.port
    for server in (source_server, target_server):
        rpc = server.rpc()
        installed = rpc.execute(
            "ir.module.module", "search_read", [["name", "in", list(ADDONS)], ["state", "=", "installed"]],
            fields=["name"],
        )
        assert sorted(m["name"] for m in installed) == sorted(ADDONS)


def test_system_committed_on_source_is_read_back_over_jsonrpc(source_target):
    source, target, source_server, target_server = source_target
    created = source.shell(
        "system = env['sync.system'].create({'name': 'Target', 'code': 'target', 'transport': 'test'})\n"
        "result = system.id\n"
    )
    rpc = source_server.rpc()
    rows = rpc.execute("sync.system", "search_read", [["code", "=", "target"]], fields=["id", "name", "transport"])
    assert rows == [{"id": created, "name": "Target", "transport": "test"}]
    # each server serves its own database only: the target has no such system
    assert target_server.rpc().execute("sync.system", "search_count", [["code", "=", "target"]]) == 0


def test_rolled_back_scenario_leaves_nothing(source_target):
    source, _target, source_server, _ts = source_target
    with pytest.raises(Exception, match="boom"):
        source.shell("env['sync.system'].create({'name': 'Ghost', 'code': 'ghost'})\nraise RuntimeError('boom')\n")
    assert source_server.rpc().execute("sync.system", "search_count", [["code", "=", "ghost"]]) == 0


def test_server_killed_with_sigkill_and_restarted(make_database, start_server):
    instance = make_database("kill")
    server = start_server(instance)
    assert server.rpc().execute("res.partner", "search_count", []) > 0
    server.kill()
    assert server.proc.returncode == -9
    with pytest.raises(Exception):  # noqa: B017 - any connection error
        server.rpc().execute("res.partner", "search_count", [])
    server.start()
    assert server.rpc().execute("res.partner", "search_count", []) > 0


def test_wrong_password_is_refused(source_target):
    _source, _target, source_server, _ts = source_target
    with pytest.raises(JsonRpcError):
        source_server.rpc(password="wrong").execute("res.partner", "search_count", [])
