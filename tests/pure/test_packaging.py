"""Each addon builds as a wheel in the OCA manner (whool) and carries its translation template."""

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADDONS = ["sync_base", "sync_mapping", "sync_queue", "sync_transport_wso2", "sync_transport_rpc"]


@pytest.mark.parametrize("addon", ADDONS)
def test_addon_is_packaged_and_translatable(addon):
    pyproject = (ROOT / addon / "pyproject.toml").read_text()
    assert 'build-backend = "whool.buildapi"' in pyproject
    pot = (ROOT / addon / "i18n" / f"{addon}.pot").read_text()
    assert f"#. module: {addon}" in pot
    manifest = ast.literal_eval((ROOT / addon / "__manifest__.py").read_text())
    # no series in the version: Odoo 18.0 and 19.0 each read it as one of theirs
    assert len(manifest["version"].split(".")) == 3, manifest["version"]
    assert 'odoo_series_override = "18.0"' in pyproject


def test_a_wheel_names_its_odoo_and_addon_dependencies(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check", "-w", str(tmp_path),
         str(ROOT / "sync_queue")],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = tmp_path.glob("odoo_addon_sync_queue-1.0.*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "Name: odoo-addon-sync_queue" in metadata
    assert "Requires-Dist: odoo==18.0.*" in metadata
    assert "Requires-Dist: odoo-addon-sync_mapping==18.0.*" in metadata
    assert "odoo/addons/sync_queue/__manifest__.py" in names
