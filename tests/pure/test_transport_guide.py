"""The transport guide's worked example is the installed, tested addon, line for line."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "tests" / "addons" / "sync_transport_webhook"
GUIDE = ROOT / "sync_base" / "readme" / "DEVELOP.rst"


def _code_blocks(text):
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text)
    return ["\n".join(line[4:] for line in block.rstrip("\n").split("\n")) + "\n" for block in blocks]


def test_the_guide_shows_the_example_files_as_they_are():
    blocks = _code_blocks(GUIDE.read_text())
    for name in ("sync_system.py", "sync_transport.py"):
        source = (EXAMPLE / "models" / name).read_text()
        assert source in blocks, f"sync_base/readme/DEVELOP.rst no longer shows models/{name} of the example"


def test_the_example_stays_about_fifty_lines_with_one_network_call():
    source = (EXAMPLE / "models" / "sync_transport.py").read_text()
    assert len(source.splitlines()) <= 60
    assert source.count("requests.request(") == 1 and "timeout=system.timeout" in source
