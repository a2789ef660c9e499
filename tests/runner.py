"""The project's test command: every tier, one total.

Tiers:

* ``lint``: ruff and pylint-odoo's mandatory checks on the whole tree;
* ``pure``: pytest on ``tests/pure`` (no Odoo);
* ``odoo``: each addon installed into a throwaway database on a PostgreSQL
  cluster of the run's own, its install log checked for WARNING and ERROR,
  then its Odoo tests run; then all five installed together; on every Odoo
  series found (18.0, 19.0: see tests/harness/odoo_env.py);
* ``e2e``: pytest on ``tests/e2e``, real Odoo server processes, on the first
  series found; on the others, the tests marked ``every_series`` (the demo);
  the cross-version tests run when two series are found.

Without Odoo the ``odoo`` and ``e2e`` tiers print SKIPPED with the reason.
The last line is ``N passed, N failed, N skipped``; the exit code is 0 only
when nothing failed.
"""

import argparse
import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.odoo_env import (
    ADDONS,
    SERIES_ENV,
    TEST_ADDONS_PATH,
    OdooMissing,
    find_all_series,
    find_series,
    what_was_found,
)
from tests.harness.odoo_server import OdooInstance, log_problem_blocks, log_problems
from tests.harness.pg import PgCluster, free_port

TIERS = ("lint", "pure", "odoo", "e2e")
TEMPLATE_DB = "sync_test_template"
TEMPLATE_MODULES = ("base", "mail")
FAILED_TEST_RE = re.compile(r"\.tests\.(?:\w+): (?:FAIL|ERROR): (\w+\.\w+)")
ODOO_RESULT_RE = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")
ODOO_SKIPPED_RE = re.compile(r" INFO \S+ \S+: skipped ")
LONG_ENV = "SYNC_TEST_LONG"


class Tally:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.failures = []

    def add(self, passed=0, failed=0, skipped=0, failure=None):
        self.passed += passed
        self.failed += failed
        self.skipped += skipped
        if failure:
            self.failures.append(failure)

    def line(self):
        return f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped"


def banner(text):
    print(f"\n=== {text}", flush=True)


def skipped_banner(tier, reason):
    print(f"\n{'!' * 72}\nSKIPPED: the {tier} tier did not run: {reason}\n{'!' * 72}", flush=True)


# ----------------------------------------------------------------------
# lint
# ----------------------------------------------------------------------
def run_lint(tally):
    banner("lint: ruff")
    # the ruff of this Python first: a virtual environment that is not activated has it off the PATH
    ruff = [sys.executable, "-m", "ruff"] if importlib.util.find_spec("ruff") else [shutil.which("ruff") or ""]
    if not ruff[0]:
        tally.add(failed=1, failure="lint: ruff is not installed (bin/test installs it: run it again)")
        print("ruff is not installed")
    else:
        proc = subprocess.run([*ruff, "check", "."], cwd=ROOT, check=False)
        tally.add(passed=int(proc.returncode == 0), failed=int(proc.returncode != 0),
                  failure=None if proc.returncode == 0 else "lint: ruff")
    banner("lint: pylint-odoo (mandatory checks)")
    proc = subprocess.run(
        [sys.executable, "-m", "pylint", "--rcfile", str(ROOT / ".pylintrc-mandatory"), *ADDONS,
         *[str(p.relative_to(ROOT)) for p in sorted(TEST_ADDONS_PATH.iterdir()) if (p / "__manifest__.py").exists()]],
        cwd=ROOT, check=False,
    )
    ok = proc.returncode == 0
    tally.add(passed=int(ok), failed=int(not ok), failure=None if ok else "lint: pylint-odoo")


# ----------------------------------------------------------------------
# pytest tiers
# ----------------------------------------------------------------------
def run_pytest(tally, label, paths, extra_env=None):
    banner(f"{label}: pytest {' '.join(paths)}")
    junit = Path(tempfile.mkstemp(prefix="sync-junit-", suffix=".xml")[1])
    env = dict(os.environ, **(extra_env or {}))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", f"--junitxml={junit}", *paths],
        cwd=ROOT, env=env, check=False,
    )
    try:
        suites = ET.parse(junit).getroot()
    except (ET.ParseError, OSError):
        tally.add(failed=1, failure=f"{label}: pytest produced no report (exit {proc.returncode})")
        return
    finally:
        junit.unlink(missing_ok=True)
    total = failed = skipped = 0
    for suite in suites.iter("testsuite"):
        total += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    if proc.returncode not in (0, 1, 5):
        failed = max(failed, 1)
    # the summary names the failing tests: CI's log may keep only its tail
    names = [case.get("name") for case in suites.iter("testcase")
             if case.find("failure") is not None or case.find("error") is not None]
    named = f" ({', '.join(names[:10])}{', ...' if len(names) > 10 else ''})" if names else ""
    tally.add(passed=total - failed - skipped, failed=failed, skipped=skipped,
              failure=f"{label}: {failed} failed{named}" if failed else None)


# ----------------------------------------------------------------------
# odoo tier
# ----------------------------------------------------------------------
def read_manifest(path):
    return ast.literal_eval((path / "__manifest__.py").read_text())


def dependency_closure(name, manifests):
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(d for d in manifests.get(current, {}).get("depends", []) if d in manifests)
    return seen


def suite_manifests():
    manifests = {name: read_manifest(ROOT / name) for name in ADDONS}
    test_addons = {}
    for path in sorted(TEST_ADDONS_PATH.iterdir()):
        if (path / "__manifest__.py").exists():
            test_addons[path.name] = read_manifest(path)
    return manifests, test_addons


def test_addons_for(addon, manifests, test_addons):
    """Test addons that need nothing beyond ``addon``, its dependencies and other such test addons.

    Test addons that need other Odoo addons (base_automation...) run in the
    database of all five addons only.
    """
    closure = dependency_closure(addon, manifests)
    chosen = []
    for name in test_addons:
        deps = set(test_addons[name].get("depends", []))
        if deps <= closure | set(chosen):
            chosen.append(name)
    return chosen


def check_install_log(tally, label, log):
    problems = log_problems(log)
    if problems:
        print(f"FAIL {label}: the log holds {len(problems)} WARNING/ERROR line(s):")
        for line in problems[:20]:
            print("   ", line[:300])
        tally.add(failed=1, failure=f"odoo: {label} logged warnings or errors")
    else:
        print(f"ok   {label}: clean log")
        tally.add(passed=1)


def run_odoo_tests(tally, instance, label, modules):
    """Run the post-install tests of ``modules`` in ``instance`` and add them to the tally."""
    t0 = time.monotonic()
    tags = ",".join(f"/{module}" for module in modules)
    # HttpCase tests talk to a real server: on a free loopback port, never a port someone else uses
    proc = instance.run(["--test-enable", "--test-tags", tags, "--stop-after-init", "--log-level=info",
                         "--http-interface", "127.0.0.1", "--http-port", str(free_port()),
                         "--gevent-port", str(free_port())], check=False)
    output = proc.stderr
    match = ODOO_RESULT_RE.search(output)
    for block in log_problem_blocks(output):
        # the entry's first line, and its traceback in full: a failing test must be readable from CI's log
        first, _newline, rest = block.partition("\n")
        print("   ", first[:400])
        for line in rest.splitlines()[-60:]:
            print("       ", line)
    if not match:
        print(output[-3000:])
        tally.add(failed=1, failure=f"odoo: the tests of {label} did not report")
        return
    failed, errors, run = (int(g) for g in match.groups())
    skipped_lines = [line for line in output.splitlines() if ODOO_SKIPPED_RE.search(line)]
    skipped = len(skipped_lines)
    for line in skipped_lines:
        # a test skipped on one series says why, in CI's log
        print("    skipped:", line.split(": skipped ", 1)[-1][:300])
    print(f"{label}: {run} tests, {failed} failed, {errors} errors, {skipped} skipped ({time.monotonic() - t0:.0f}s)")
    # the summary names the failing tests: CI's log may keep only its tail
    names = sorted(set(FAILED_TEST_RE.findall(output)))
    named = f" ({', '.join(names)})" if names else ""
    tally.add(passed=run - failed - errors - skipped, failed=failed + errors, skipped=skipped,
              failure=f"odoo: {label}: {failed + errors} failed{named}" if failed + errors else None)
    if not run:
        tally.add(failed=1, failure=f"odoo: {label} ran no test")


def run_odoo_tier(tally, cluster, selected_addons):
    """The Odoo tier on the series of ``SYNC_TEST_SERIES``; labels and databases name the series."""
    series = find_series()
    tag = f"Odoo {series.name}"
    manifests, test_addons = suite_manifests()
    template_db = f"{TEMPLATE_DB}_{series.major}"
    banner(f"odoo ({tag}): template database (base, mail)")
    template = OdooInstance(cluster, template_db)
    if not cluster.db_exists(template_db):
        t0 = time.monotonic()
        template.install(TEMPLATE_MODULES)
        print(f"template ready in {time.monotonic() - t0:.0f}s")
    for addon in selected_addons:
        dbname = f"sync_test_{addon}"
        extra = test_addons_for(addon, manifests, test_addons)
        banner(f"odoo ({tag}): {addon} (with {', '.join(extra) or 'no test addon'}) in database {dbname}")
        cluster.copy_db(template_db, dbname)
        instance = OdooInstance(cluster, dbname, data_dir=template.data_dir)
        t0 = time.monotonic()
        try:
            log = instance.install([addon, *extra])
        except Exception as exc:
            print(f"FAIL install of {addon}: {exc}")
            tally.add(failed=1, failure=f"odoo ({tag}): {addon} does not install")
            continue
        check_install_log(tally, f"{tag}: install of {addon} alone ({time.monotonic() - t0:.0f}s)", log)
        run_odoo_tests(tally, instance, f"{tag}: {addon}", [addon])
        cluster.drop_db(dbname)
    if len(selected_addons) > 1:
        banner(f"odoo ({tag}): all five addons together")
        dbname = "sync_test_all"
        cluster.copy_db(template_db, dbname)
        instance = OdooInstance(cluster, dbname, data_dir=template.data_dir)
        try:
            check_install_log(tally, f"{tag}: install of all five addons and the test addons",
                              instance.install([*ADDONS, *test_addons]))
        except Exception as exc:
            print(f"FAIL: {exc}")
            tally.add(failed=1, failure=f"odoo ({tag}): the five addons do not install together")
        else:
            with_tests = [name for name in test_addons if (TEST_ADDONS_PATH / name / "tests").is_dir()]
            if with_tests:
                run_odoo_tests(tally, instance, f"{tag}: test addons", with_tests)
        cluster.drop_db(dbname)


def announce_series(every_series):
    banner(f"Odoo: {what_was_found()}")
    others = ", ".join(s.name for s in every_series[1:])
    print(f"the odoo tier runs on {', '.join(s.name for s in every_series)}; the e2e tier in full on "
          f"{every_series[0].name}" + (f", its every_series tests on {others}" if others else ""))
    if len(find_all_series()) < 2:
        print("!!! one Odoo series only: the cross-version tests will be SKIPPED (set ODOO19_PATH and "
              "ODOO19_PYTHON to an Odoo 19.0 tree and its virtual environment to run them)")


def run_e2e_tier(tally, cluster, every_series, args, first=True):
    """The e2e tests in full on the first series (``first``); on the others those marked ``every_series``."""
    for index, series in enumerate(every_series, start=0 if first else 1):
        env = {
            "SYNC_TEST_PGDATA": str(cluster.datadir),
            "SYNC_TEST_PGPORT": str(cluster.port),
            LONG_ENV: "1" if args.long else "",
            SERIES_ENV: series.name,
        }
        selection = [] if index == 0 else ["-m", "every_series"]
        # the slowest tests, printed: what to look at when the run nears CI's limit
        run_pytest(tally, f"e2e (Odoo {series.name})", ["tests/e2e", "--durations=15", *selection, *args.pytest_args],
                   extra_env=env)


def start_odoo_tier_beside(series, args):
    """Start the Odoo tier of ``series`` in a process of its own (its own cluster); its output goes to a file."""
    log = Path(tempfile.mkstemp(prefix=f"sync-odoo-{series.major}-", suffix=".log")[1])
    # niced: the e2e tier's real-time limits and timings come first; this tier takes the CPU they leave
    command = ["nice", "-n", "19", sys.executable, str(ROOT / "tests" / "runner.py"), "--tier", "odoo", "--series",
               series.name]
    for addon in args.addon or ():
        command += ["--addon", addon]
    env = {key: value for key, value in os.environ.items() if key != "SYNC_TEST_WORKDIR"}
    print(f"the Odoo tier of Odoo {series.name} runs beside the e2e tier; its output follows it")
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    return series, process, log


def finish_odoo_tier_beside(tally, series, process, log):
    """Wait for it, print its output and add its counts (its last line) to the tally."""
    process.wait()
    text = log.read_text(errors="replace")
    log.unlink(missing_ok=True)
    banner(f"odoo (Odoo {series.name}), run beside the e2e tier")
    print(text)
    totals = re.findall(r"^(\d+) passed, (\d+) failed, (\d+) skipped$", text, re.MULTILINE)
    if not totals:
        tally.add(failed=1, failure=f"odoo (Odoo {series.name}): the tier did not report (exit {process.returncode})")
        return
    passed, failed, skipped = (int(g) for g in totals[-1])
    tally.add(passed=passed, failed=failed, skipped=skipped,
              failure=f"odoo (Odoo {series.name}): {failed} failed (above)" if failed else None)


def run_odoo_and_e2e(tally, cluster, every_series, tiers, args):
    """The odoo and e2e tiers on every series found."""
    # --beside: the other series' Odoo tier runs beside the first series' e2e tier, in a process and on a cluster
    # of its own; not by default: on two cores the e2e tests bound by real-time limits then fail now and then
    beside = every_series[1:] if "odoo" in tiers and "e2e" in tiers and args.beside else []
    if "odoo" in tiers:
        for series in every_series:
            if series not in beside:
                os.environ[SERIES_ENV] = series.name
                run_odoo_tier(tally, cluster, args.addon or list(ADDONS))
    running = [start_odoo_tier_beside(series, args) for series in beside]
    try:
        if "e2e" in tiers:
            run_e2e_tier(tally, cluster, every_series[:1], args)
    finally:
        for series, process, log in running:
            finish_odoo_tier_beside(tally, series, process, log)
    if "e2e" in tiers:
        run_e2e_tier(tally, cluster, every_series[1:], args, first=False)


# ----------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--long", action="store_true", help="also run the long fault and load tests")
    parser.add_argument("--tier", action="append", choices=TIERS, help="run only these tiers (repeatable)")
    parser.add_argument("--addon", action="append", choices=ADDONS, help="odoo tier: only these addons")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL cluster and its databases")
    parser.add_argument("--series", action="append", choices=("18.0", "19.0"),
                        help="odoo and e2e tiers: only these Odoo series (default: every series found)")
    parser.add_argument("--beside", action="store_true",
                        help="run the second series' Odoo tier beside the first series' e2e tier (faster on a machine "
                             "with cores to spare; on two cores it slows the e2e tier's timing-bound tests)")
    parser.add_argument("pytest_args", nargs="*", help="extra arguments for the e2e pytest run (e.g. -k smoke)")
    args = parser.parse_args(argv)
    tiers = args.tier or list(TIERS)
    tally = Tally()
    started = time.monotonic()

    if "lint" in tiers:
        run_lint(tally)
    if "pure" in tiers:
        run_pytest(tally, "pure", ["tests/pure"])

    odoo_reason = None
    try:
        find_series(args.series[0] if args.series else None)
    except OdooMissing as exc:
        odoo_reason = str(exc)
    every_series = [s for s in find_all_series() if not args.series or s.name in args.series]
    if not odoo_reason:
        announce_series(every_series)
    cluster = None
    workdir = None
    try:
        if odoo_reason:
            for tier in ("odoo", "e2e"):
                if tier in tiers:
                    skipped_banner(tier, odoo_reason)
                    tally.add(skipped=1)
        elif "odoo" in tiers or "e2e" in tiers:
            workdir = Path(os.environ.get("SYNC_TEST_WORKDIR") or tempfile.mkdtemp(prefix="sync-test-"))
            banner(f"PostgreSQL: a cluster of this run in {workdir}")
            cluster = PgCluster(workdir / "pgdata").init().start()
            print(f"listening on 127.0.0.1:{cluster.port}")
            run_odoo_and_e2e(tally, cluster, every_series, tiers, args)
    finally:
        if cluster and not args.keep:
            cluster.destroy()
            if workdir and not os.environ.get("SYNC_TEST_WORKDIR"):
                shutil.rmtree(workdir, ignore_errors=True)

    banner(f"summary ({time.monotonic() - started:.0f}s)")
    for failure in tally.failures:
        print(f"FAILED: {failure}")
    print(tally.line())
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
