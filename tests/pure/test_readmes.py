"""Each addon's README.rst is generated from its readme/ fragments, and every README is valid reStructuredText."""

import io
import subprocess
import sys
from pathlib import Path

import docutils.core
import pytest

ROOT = Path(__file__).resolve().parents[2]
READMES = sorted(ROOT.glob("*/README.rst")) + sorted(ROOT.glob("tests/addons/*/README.rst")) + [ROOT / "README.rst"]


def test_addon_readmes_are_up_to_date():
    proc = subprocess.run([sys.executable, "tools/gen_addon_readme.py", "--check"], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("path", READMES, ids=lambda p: str(p.relative_to(ROOT)))
def test_readme_is_valid_rst(path):
    warnings = io.StringIO()
    # report_level 2: warnings and errors go to the stream; halt_level 5: never raise
    docutils.core.publish_doctree(
        path.read_text(), settings_overrides={"report_level": 2, "halt_level": 5, "warning_stream": warnings}
    )
    assert not warnings.getvalue(), f"{path}:\n{warnings.getvalue()}"
