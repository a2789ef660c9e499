"""The run command: PostgreSQL, a database with the suite installed, and Odoo on localhost.

Makes sure PostgreSQL runs (installing and starting Debian's PostgreSQL 15
when it is missing and this runs as root; otherwise it prints the one command
that would), creates the database with the five addons when it does not exist
yet, and serves it with Odoo on http://localhost:8069 until interrupted.
Running it again reuses the database.
"""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.odoo_env import ADDONS, OdooMissing, addons_path, find_odoo, odoo_command, odoo_environ
from tests.harness.pg import PgError, ensure_system_postgres


def database_exists(dbname):
    env = dict(os.environ, PGPASSWORD="odoo")
    proc = subprocess.run(
        ["psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-U", "odoo", "-d", "postgres", "-c",
         f"SELECT 1 FROM pg_database WHERE datname = '{dbname}'"],  # noqa: S608 - name checked by main()
        capture_output=True, text=True, env=env, check=False,
    )
    return proc.stdout.strip() == "1"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="sync_demo", help="database name (default: sync_demo)")
    parser.add_argument("--port", type=int, default=8069, help="HTTP port (default: 8069)")
    args = parser.parse_args(argv)
    if not re.match(r"^[A-Za-z0-9_-]+$", args.db):
        parser.error("--db takes letters, digits, '_' and '-' only")

    def say(text):
        sys.stdout.write(text + "\n")

    try:
        root, extra_pythonpath = find_odoo()
    except OdooMissing as exc:
        say(str(exc))
        return 2
    try:
        db_args = ensure_system_postgres(log=say)
    except PgError as exc:
        say(str(exc))
        return 2
    data_dir = Path.home() / ".local" / "share" / "sync-suite"
    base = [*db_args, "--addons-path", addons_path(root), "--data-dir", str(data_dir), "-d", args.db]
    env = odoo_environ(extra_pythonpath)
    if not database_exists(args.db):
        say(f"Creating database {args.db} with the suite installed (about a minute) ...")
        proc = subprocess.run(odoo_command([*base, "-i", ",".join(ADDONS), "--stop-after-init",
                                            "--without-demo=all", "--log-level=warn"]),
                              env=env, check=False)
        if proc.returncode != 0:
            say("Installing the suite failed; see the log above.")
            return proc.returncode
    say(f"Serving {args.db} on http://localhost:{args.port}  (login: admin, password: admin; Ctrl+C to stop)")
    serve = odoo_command([*base, "--http-interface", "127.0.0.1", "--http-port", str(args.port),
                          "--db-filter", f"^{args.db}$", "--log-level=warn"])
    os.execvpe(serve[0], serve, env)  # noqa: S606 - replace this process with the server
    return 0


if __name__ == "__main__":
    sys.exit(main())
