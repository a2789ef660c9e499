"""The benchmarks: one command, figures printed as a table and written as JSON.

    python3 bench/run.py [--only NAME]

Each figure is a rate or a ratio measured side by side in one run, on a
PostgreSQL cluster of the run's own and real Odoo 18.0.  Not part of the
test run.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.odoo_env import ADDONS, OdooMissing, find_odoo
from tests.harness.odoo_server import OdooInstance
from tests.harness.pg import PgCluster

BENCHMARKS = {
    "serialize": ROOT / "bench" / "serialize.py",
}


def machine():
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.date.today().isoformat(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS))
    args = parser.parse_args(argv)
    try:
        find_odoo()
    except OdooMissing as exc:
        sys.stdout.write(f"{exc}\n")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    cluster = PgCluster(workdir / "pgdata").init().start()
    figures = {}
    try:
        instance = OdooInstance(cluster, "sync_bench", with_test_addons=False)
        instance.install(list(ADDONS))
        for name in args.only or sorted(BENCHMARKS):
            sys.stdout.write(f"running {name} ...\n")
            sys.stdout.flush()
            figures.update(instance.shell(BENCHMARKS[name].read_text(), timeout=3600))
    finally:
        cluster.destroy()
        shutil.rmtree(workdir, ignore_errors=True)
    width = max(len(k) for k in figures)
    sys.stdout.write("\n" + "figure".ljust(width) + "  value\n" + "-" * (width + 12) + "\n")
    for key, value in figures.items():
        sys.stdout.write(f"{key.ljust(width)}  {value}\n")
    out = ROOT / "bench" / "results" / "latest.json"
    out.write_text(json.dumps({"machine": machine(), "figures": figures}, indent=2) + "\n")
    sys.stdout.write(f"\nwritten to {out.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
