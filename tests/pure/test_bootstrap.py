"""The set-up step of bin/run and bin/test: which distributions are missing, and what it says when pip fails."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tools import bootstrap


def test_only_what_is_absent_or_too_old_is_missing():
    wanted = ["requests>=2.25", "jsonschema>=4.0", "inflect>=5.0", "pytest-timeout", "pylint-odoo>=9"]
    installed = {"requests": (2, 31, 0), "jsonschema": (3, 2), "pylint-odoo": (10, 0, 12)}
    assert bootstrap.missing_requirements(wanted, installed) == ["jsonschema>=4.0", "inflect>=5.0", "pytest-timeout"]


def test_nothing_is_missing_when_everything_is_there():
    wanted = ["requests>=2.25", "ruff>=0.6", "websocket-client"]
    installed = {"requests": (2, 25), "ruff": (0, 17, 6), "websocket-client": None}
    assert bootstrap.missing_requirements(wanted, installed) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("Pylint_Odoo>=9", ("pylint-odoo", ">=", (9,))),
    ("hypothesis >= 6.1", ("hypothesis", ">=", (6, 1))),
    ("docutils", ("docutils", None, None)),
    ("ruff==0.6.0rc1", ("ruff", "==", (0, 6, 0))),
])
def test_requirements_are_read_as_pypi_names_and_release_numbers(text, expected):
    assert bootstrap.parse_requirement(text) == expected


def test_a_requirement_it_cannot_read_is_an_error_naming_it():
    with pytest.raises(ValueError, match=r"'inflect~=5'"):
        bootstrap.missing_requirements(["inflect~=5"], {})


def test_an_importable_distribution_without_a_version_counts_as_there_but_an_exact_pin_is_compared():
    assert bootstrap.missing_requirements(["websocket-client>=1"], {"websocket-client": None}) == []
    assert bootstrap.missing_requirements(["docutils==0.20.0"], {"docutils": (0, 20)}) == []
    assert bootstrap.missing_requirements(["docutils==0.20.1"], {"docutils": (0, 20)}) == ["docutils==0.20.1"]
    assert bootstrap.missing_requirements(["docutils==0.21"], {"docutils": (0, 20, 1)}) == ["docutils==0.21"]


def test_setup_cfg_gives_the_run_and_the_test_requirements():
    run = bootstrap.requirements("run")
    test = bootstrap.requirements("test")
    assert {bootstrap.parse_requirement(text)[0] for text in run} >= {"requests", "jsonschema", "inflect"}
    assert test[:len(run)] == run
    assert {bootstrap.parse_requirement(text)[0] for text in test} >= {"pytest", "ruff", "pylint-odoo"}


def test_the_installed_versions_are_this_pythons():
    found = bootstrap.installed_versions(["pytest", "surely-no-such-distribution-here"])
    assert found["pytest"] and found["pytest"][0] >= 7
    assert "surely-no-such-distribution-here" not in found


def test_when_pip_fails_it_says_what_failed_and_the_command_without_a_traceback():
    # a real pip run that cannot succeed: a distribution no index has
    with pytest.raises(bootstrap.BootstrapError) as caught:
        bootstrap.install(["surely-no-such-distribution-here>=1", "--no-index"], "run", say=lambda _text: None)
    text = str(caught.value)
    assert "Could not install the missing Python distributions with pip" in text
    assert "surely-no-such-distribution-here" in text
    assert f"{sys.executable} -m pip install" in text
    assert "Traceback" not in text


def test_with_everything_there_the_step_says_nothing_and_calls_no_pip():
    proc = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "tools" / "bootstrap.py"), "test"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""
    # no pip was imported nor run, no Odoo probe either: the step costs metadata look-ups only
    assert "| pip" not in proc.stderr and "| odoo" not in proc.stderr


def test_a_python_without_pip_is_told_to_install_pip_first():
    message = bootstrap._failure(bootstrap.pip_command(["inflect>=5.0"]), "/usr/bin/python3: No module named pip")
    assert "has no pip" in message
    assert "-m ensurepip --upgrade" in message
    assert message.index("ensurepip") < message.index("pip install")


def test_a_purpose_followed_by_more_arguments_gets_the_usage():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "bootstrap.py"), "run", "extra"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert "usage:" in proc.stderr and "run|test" in proc.stderr
