"""Real Odoo processes for the end-to-end tests and the demo.

:class:`OdooInstance` describes one database (cluster, name, addons path)
and runs Odoo's command line against it: installing modules, running scenario
code inside the database, and serving it with :class:`OdooServer`, a real
``odoo`` server process on a free loopback port with a database filter.
"""

import json
import os
import re
import select
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path

import requests

from .odoo_env import addons_path, find_series, odoo_command, odoo_environ
from .pg import free_port
from .shell_runner import MARKER

LOG_PROBLEM_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (WARNING|ERROR|CRITICAL) ", re.MULTILINE)
SHELL_RUNNER = Path(__file__).with_name("shell_runner.py")
#: ``serve``: scenarios through a shell server per database; anything else: a process per scenario
SHELL_MODE_ENV = "SYNC_TEST_SHELL"


class OdooCommandError(RuntimeError):
    pass


def _stop_process(process):
    if process.poll() is None:
        process.kill()
        process.wait()


LOG_LINE_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ ")


def log_problems(text):
    """The WARNING, ERROR and CRITICAL lines of an Odoo log."""
    return [line for line in text.splitlines() if LOG_PROBLEM_RE.match(line)]


def log_problem_blocks(text):
    """The WARNING, ERROR and CRITICAL entries of an Odoo log, each with the lines that follow it (a traceback)."""
    blocks, current = [], None
    for line in text.splitlines():
        if LOG_LINE_RE.match(line):
            current = [line] if LOG_PROBLEM_RE.match(line) else None
            if current:
                blocks.append(current)
        elif current is not None:
            current.append(line)
    return ["\n".join(block) for block in blocks]


class OdooInstance:
    """One database of a cluster, and the Odoo command lines that work on it."""

    def __init__(self, cluster, dbname, with_test_addons=True, data_dir=None, series=None):
        self.cluster = cluster
        self.dbname = dbname
        # another series than this process's: a database of each series in one run (the cross-version demo)
        self.series = series or find_series()
        self.root, self.extra_pythonpath = self.series.root, self.series.extra_pythonpath
        self.addons_path = addons_path(self.root, with_tests=with_test_addons)
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="sync-odoo-data-")
        self._shell_server = None
        self._shell_errors = None
        self._shell_lock = threading.Lock()

    def base_args(self):
        return [
            "--addons-path", self.addons_path,
            "--data-dir", self.data_dir,
            *self.cluster.odoo_args(),
            "-d", self.dbname,
        ]

    def run(self, args, timeout=1800, stdin=None, check=True):
        """Run Odoo's command line on this database and return the completed process (text)."""
        if "--http-interface" not in args:
            # loopback, never every interface; 19.0 also warns when it is not given
            args = ["--http-interface", "127.0.0.1", *args]
        proc = subprocess.run(
            odoo_command([*self.base_args(), *args], python=self.series.python),
            input=stdin,
            capture_output=True,
            text=True,
            env=odoo_environ(self.extra_pythonpath),
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise OdooCommandError(f"odoo {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        return proc

    def install(self, modules, extra=(), timeout=1800):
        """Install ``modules``; return the log text.

        Odoo exits 0 when it leaves a module out (an addon it finds
        uninstallable, a version of another series): every module asked for
        must be installed afterwards, or this fails saying which and how."""
        proc = self.run(["-i", ",".join(modules), "--stop-after-init", *self.series.no_demo_args(), *extra],
                        timeout=timeout)
        names = ",".join(f"'{name}'" for name in modules)
        rows = self.cluster.psql(f"SELECT name || '=' || state FROM ir_module_module WHERE name IN ({names})",
                                 dbname=self.dbname)
        states = dict(row.split("=", 1) for row in rows.splitlines() if row)
        missing = [f"{name} ({states.get(name, 'not found on the addons path')})" for name in modules
                   if states.get(name) != "installed"]
        if missing:
            raise OdooCommandError(f"Odoo {self.series.name} exited 0 but did not install: {', '.join(missing)}\n"
                                   + "\n".join(log_problems(proc.stderr)[-20:]))
        return proc.stderr

    def shell(self, code, timeout=600):
        """Run ``code`` inside the database (committed on success) and return its ``result``.

        With ``SYNC_TEST_SHELL=serve`` (the end-to-end tests), through this
        instance's shell server (one process that keeps Odoo loaded, see
        ``shell_runner.py``), except while it runs another scenario (a test's
        concurrent ones); otherwise (the benchmarks, which measure a
        scenario's process, and the demo) in a process of its own, as
        ``odoo-bin shell`` would."""
        if os.environ.get(SHELL_MODE_ENV) == "serve" and self._shell_lock.acquire(blocking=False):
            try:
                return self._shell_served(code, timeout)
            finally:
                self._shell_lock.release()
        return self._shell_once(code, timeout)

    def close(self):
        """Stop this instance's shell server, if any (before its database is dropped)."""
        server, self._shell_server = self._shell_server, None
        if server and server.poll() is None:
            server.stdin.close()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    def _shell_served(self, code, timeout):
        server = self._shell_server
        if server is None or server.poll() is not None:
            handle, errors = tempfile.mkstemp(prefix=f"odoo-shell-{self.dbname}-", suffix=".log")
            os.close(handle)
            self._shell_errors = Path(errors)
            with self._shell_errors.open("w") as err:
                server = subprocess.Popen(
                    [self.series.python, str(SHELL_RUNNER), "--serve", *self.base_args(), "--log-level=warn",
                     "--http-interface", "127.0.0.1"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=odoo_environ(self.extra_pythonpath),
                )
            self._shell_server = server
            weakref.finalize(self, _stop_process, server)
        start = self._shell_errors.stat().st_size
        server.stdin.write((json.dumps({"code": code}) + "\n").encode())
        server.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            ready = select.select([server.stdout], [], [], max(remaining, 0))[0] if remaining > 0 else []
            if not ready:
                self._shell_server = None
                _stop_process(server)
                raise subprocess.TimeoutExpired("shell scenario", timeout)
            line = server.stdout.readline().decode(errors="replace")
            if not line:
                self._shell_server = None
                stderr = self._shell_errors.read_text(errors="replace")[start:]
                raise OdooCommandError(f"the shell server of {self.dbname} stopped ({server.poll()}):\n"
                                       f"{stderr[-6000:]}")
            if line.startswith(MARKER):
                answer = json.loads(line[len(MARKER):])
                if "error" in answer:
                    stderr = self._shell_errors.read_text(errors="replace")[start:]
                    raise OdooCommandError(f"scenario code failed in {self.dbname}:\n{stderr[-3000:]}\n"
                                           f"{answer['error'][-6000:]}")
                return answer["result"]

    def _shell_once(self, code, timeout):
        proc = subprocess.run(
            [self.series.python, str(SHELL_RUNNER), *self.base_args(), "--log-level=warn", "--http-interface",
             "127.0.0.1"],
            input=code,
            capture_output=True,
            text=True,
            env=odoo_environ(self.extra_pythonpath),
            timeout=timeout,
            check=False,
        )
        for line in proc.stdout.splitlines():
            if line.startswith(MARKER):
                return json.loads(line[len(MARKER):])
        raise OdooCommandError(f"scenario code failed in {self.dbname} ({proc.returncode}):\n{proc.stderr[-6000:]}")


class OdooServer:
    """An Odoo server process serving one database on a free loopback port."""

    def __init__(self, instance, port=None, cron_threads=0, workers=0, extra_args=(), logfile=None):
        self.instance = instance
        self.port = port or free_port()
        self.cron_threads = cron_threads
        self.workers = workers
        self.extra_args = list(extra_args)
        if logfile is None:
            handle, logfile = tempfile.mkstemp(prefix=f"odoo-{instance.dbname}-", suffix=".log")
            os.close(handle)
        self.logfile = Path(logfile)
        self.proc = None
        # Odoo appends to its --logfile: what an earlier server wrote there is not this one's
        self.log_start = 0

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=120):
        self.spawn()
        self.wait_ready(timeout)
        return self

    def spawn(self):
        """Start the server process, not waiting for it to answer (see :meth:`wait_ready`)."""
        self.mark_log_start()
        args = [
            *self.instance.base_args(),
            "--http-interface", "127.0.0.1",
            "--http-port", str(self.port),
            "--gevent-port", str(free_port()),
            "--db-filter", f"^{re.escape(self.instance.dbname)}$",
            "--max-cron-threads", str(self.cron_threads),
            "--workers", str(self.workers),
            "--no-database-list",
            "--logfile", str(self.logfile),
            *self.extra_args,
        ]
        self.proc = subprocess.Popen(
            odoo_command(args, python=self.instance.series.python),
            env=odoo_environ(self.instance.extra_pythonpath),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return self

    def mark_log_start(self):
        """From now on, :meth:`log_tail` reads only what is written to the log after this point."""
        try:
            self.log_start = self.logfile.stat().st_size
        except OSError:
            self.log_start = 0

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise OdooCommandError(f"Odoo server exited with {self.proc.returncode}; log:\n{self.log_tail()}")
            try:
                response = requests.post(
                    f"{self.url}/web/webclient/version_info", json={"jsonrpc": "2.0", "params": {}}, timeout=5
                )
                # an answer while our process is gone came from another server on that port
                if response.ok and self.proc.poll() is None:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise OdooCommandError(f"Odoo server did not answer within {timeout}s; log:\n{self.log_tail()}")

    def log_tail(self, chars=4000):
        """The end of what this server logged (since it started: not what earlier servers appended)."""
        try:
            with self.logfile.open("rb") as log:
                log.seek(self.log_start)
                return log.read().decode(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def stop(self, timeout=30):
        if not self.proc or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self):
        """SIGKILL the server and every process it started."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def rpc(self, login="admin", password="admin"):  # noqa: S107 - the test database's default
        return JsonRpc(self.url, self.instance.dbname, login, password)


class JsonRpcError(RuntimeError):
    def __init__(self, error):
        self.error = error
        data = error.get("data") or {}
        super().__init__(data.get("message") or error.get("message"))
        self.name = data.get("name")


class JsonRpc:
    """A minimal JSON-RPC client of Odoo's ``/jsonrpc`` endpoint (stateless ``execute_kw``)."""

    def __init__(self, url, db, login, password, timeout=60):
        self.url = url.rstrip("/") + "/jsonrpc"
        self.db = db
        self.login = login
        self.password = password
        self.timeout = timeout
        self.session = requests.Session()
        self._uid = None

    def call(self, service, method, *args):
        payload = {"jsonrpc": "2.0", "method": "call", "params": {"service": service, "method": method, "args": args},
                   "id": 1}
        response = self.session.post(self.url, json=payload, timeout=self.timeout)
        response.raise_for_status()
        body = response.json()
        if body.get("error"):
            raise JsonRpcError(body["error"])
        return body["result"]

    @property
    def uid(self):
        if self._uid is None:
            self._uid = self.call("common", "login", self.db, self.login, self.password)
            if not self._uid:
                raise JsonRpcError({"message": f"login {self.login!r} refused"})
        return self._uid

    def execute(self, model, method, *args, **kwargs):
        return self.call("object", "execute_kw", self.db, self.uid, self.password, model, method, list(args), kwargs)
