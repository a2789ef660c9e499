"""Uninstalling a transport archives its systems and keeps them, never failing the uninstall."""

import pytest


@pytest.mark.parametrize("addon, transport", [("sync_transport_rpc", "rpc"), ("sync_transport_wso2", "wso2")])
def test_uninstall_transport_archives_its_systems(make_database, addon, transport):
    instance = make_database(f"uninst_{transport}")
    instance.shell(
        f"env['sync.system'].create({{'name': 'Remote', 'code': 'remote', 'transport': '{transport}'}})\n"
        "env['sync.system'].create({'name': 'Other', 'code': 'other', 'transport': 'test'})\n"
    )
    instance.shell(f"env['ir.module.module'].search([('name', '=', '{addon}')]).button_immediate_uninstall()\n")
    result = instance.shell(
        "Systems = env['sync.system'].with_context(active_test=False)\n"
        f"result = {{'module': env['ir.module.module'].search([('name', '=', '{addon}')]).state,\n"
        "          'systems': Systems.search([]).read(['code', 'active', 'transport'])}\n"
    )
    assert result["module"] == "uninstalled"
    systems = {row["code"]: row for row in result["systems"]}
    assert systems["remote"]["active"] is False
    assert systems["remote"]["transport"] is False
    assert systems["other"]["active"] is True and systems["other"]["transport"] == "test"
