"""PostgreSQL for the tests and the demo.

:class:`PgCluster` runs a cluster of its own (``initdb``/``pg_ctl`` from
Debian's PostgreSQL 15) in a folder, on a loopback port, so that tests can
restart it; :func:`ensure_system_postgres` makes sure the machine's own
cluster runs for the demo.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

PG_VERSION = "15"


class PgError(RuntimeError):
    pass


def pg_bindir():
    """The folder of ``initdb`` and ``pg_ctl``, or ``None``."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(candidate, "pg_ctl")):
            return candidate
    which = shutil.which("pg_ctl")
    return os.path.dirname(which) if which else None


def apt_install_command():
    return f"apt-get update && apt-get install -y postgresql-{PG_VERSION} postgresql-client-{PG_VERSION}"


def ensure_pg_installed(log=print):
    """Install PostgreSQL from Debian's packages when it is missing and we are root."""
    if pg_bindir():
        return pg_bindir()
    if os.geteuid() != 0:
        raise PgError(f"PostgreSQL is not installed; run as root: {apt_install_command()}")
    log(f"Installing PostgreSQL {PG_VERSION} from Debian's packages ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", f"postgresql-{PG_VERSION}", f"postgresql-client-{PG_VERSION}"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return pg_bindir()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgCluster:
    """A throwaway PostgreSQL cluster in ``datadir`` listening on 127.0.0.1:``port``.

    Odoo connects over TCP as role ``odoo`` (password ``odoo``, a superuser of
    this cluster only).  When running as root the server runs as the
    ``postgres`` system user, since PostgreSQL refuses to run as root.
    """

    user = "odoo"
    password = "odoo"

    def __init__(self, datadir, port=None):
        self.datadir = Path(datadir)
        self.port = port or free_port()
        self.bindir = None
        self.run_as = "postgres" if os.geteuid() == 0 else None

    # -- process helpers -------------------------------------------------
    def _cmd(self, argv, check=True, **kw):
        if self.run_as:
            argv = ["runuser", "-u", self.run_as, "--", *argv]
        return subprocess.run(argv, check=check, capture_output=True, text=True, **kw)

    def _bin(self, name):
        return os.path.join(self.bindir, name)

    def init(self):
        self.bindir = ensure_pg_installed()
        if (self.datadir / "PG_VERSION").exists():
            return self
        self.datadir.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            # The server runs as the postgres user: it must own the folder and
            # reach it (a mkdtemp() parent is private to its owner).
            pw = pwd.getpwnam(self.run_as)
            os.chown(self.datadir, pw.pw_uid, pw.pw_gid)
            parent = self.datadir.parent
            if parent.stat().st_uid == os.geteuid():
                parent.chmod(parent.stat().st_mode | 0o711)
        self._cmd([self._bin("initdb"), "-D", str(self.datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                   "--locale=C.UTF-8", "--no-sync"])
        conf = self.datadir / "postgresql.conf"
        with open(conf, "a", encoding="utf-8") as fh:
            fh.write(
                "\n# sync suite test cluster\n"
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.datadir}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "max_connections = 200\nshared_buffers = 256MB\n"
            )
        return self

    def start(self, timeout=60):
        if self.bindir is None:
            self.init()
        if self.is_running():
            return self
        self._cmd([self._bin("pg_ctl"), "-D", str(self.datadir), "-l", str(self.datadir / "server.log"),
                   "-o", f"-p {self.port}", "-w", "-t", str(timeout), "start"])
        self._ensure_role()
        return self

    def stop(self, mode="fast"):
        if self.bindir and (self.datadir / "postmaster.pid").exists():
            self._cmd([self._bin("pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop"], check=False)

    def restart(self, mode="fast"):
        self._cmd([self._bin("pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w",
                   "-l", str(self.datadir / "server.log"), "-o", f"-p {self.port}", "restart"])

    def is_running(self):
        if not self.bindir:
            return False
        proc = self._cmd([self._bin("pg_ctl"), "-D", str(self.datadir), "status"], check=False)
        return proc.returncode == 0

    def destroy(self):
        self.stop(mode="immediate")
        shutil.rmtree(self.datadir, ignore_errors=True)

    # -- SQL helpers -----------------------------------------------------
    def psql(self, sql, dbname="postgres", user="postgres"):
        proc = subprocess.run(
            ["psql", "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", str(self.port), "-U", user, "-d", dbname,
             "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, check=False,
            env=dict(os.environ, PGPASSWORD=self.password),
        )
        if proc.returncode != 0:
            raise PgError(f"psql failed: {proc.stderr.strip()}")
        return proc.stdout.strip()

    def _ensure_role(self):
        deadline = time.monotonic() + 30
        while True:
            try:
                exists = self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{self.user}'")
                break
            except PgError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        if not exists:
            self.psql(f"CREATE ROLE {self.user} LOGIN SUPERUSER PASSWORD '{self.password}'")

    def db_exists(self, name):
        return bool(self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"))

    def drop_db(self, name):
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def copy_db(self, template, name):
        self.drop_db(name)
        self.psql(f'CREATE DATABASE "{name}" WITH TEMPLATE "{template}" OWNER {self.user}')

    def odoo_args(self):
        return ["--db_host", "127.0.0.1", "--db_port", str(self.port), "--db_user", self.user,
                "--db_password", self.password]


def ensure_system_postgres(log=print):
    """Make sure the machine's PostgreSQL runs, with a role for Odoo; return connection arguments.

    Installs and starts it when missing and running as root; otherwise raises
    :class:`PgError` with the one command that would.
    """
    ensure_pg_installed(log)
    if os.geteuid() != 0:
        probe = subprocess.run(["pg_isready", "-h", "127.0.0.1"], capture_output=True, check=False)
        if probe.returncode != 0:
            raise PgError(f"PostgreSQL is not running; run as root: pg_ctlcluster {PG_VERSION} main start")
        return []
    clusters = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=False).stdout.split()
    if not clusters:
        subprocess.run(["pg_createcluster", PG_VERSION, "main"], check=True, capture_output=True)
    probe = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432"], capture_output=True, check=False)
    if probe.returncode != 0:
        log("Starting PostgreSQL ...")
        subprocess.run(["pg_ctlcluster", PG_VERSION, "main", "start"], check=True, capture_output=True)
        for _i in range(60):
            if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432"], capture_output=True,
                              check=False).returncode == 0:
                break
            time.sleep(0.5)
    subprocess.run(
        ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-c",
         ("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'odoo') THEN "
          "CREATE ROLE odoo LOGIN CREATEDB PASSWORD 'odoo'; END IF; END $$;")],
        check=True, capture_output=True,
    )
    return ["--db_host", "127.0.0.1", "--db_port", "5432", "--db_user", "odoo", "--db_password", "odoo"]
