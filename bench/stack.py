"""What a benchmark run stands on: a fresh PostgreSQL database, the app migrated and loaded, gunicorn serving it.

``Stack`` is a context manager that starts all of it and, whatever happens inside, stops gunicorn (the master, then
its whole process group) and drops the database. Nothing is left running or stored.
"""

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import dj_database_url
import psycopg2

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
BENCH_FIXTURE = REPO / "bench" / "fixture" / "bench-experiment.json"
REAL_FIXTURE = REPO / "fixtures" / "kubernetes-pod-dfd.json"
DB_PREFIX = "threatlab_bench_"


ADMIN_DATABASE = "postgres"  # where CREATE and DROP DATABASE run: the maintenance database every server has
_POSTGRESQL = "django.db.backends.postgresql"
# Options Django's PostgreSQL backend takes out before it connects; the rest of a URL's query is libpq's.
_DJANGO_OPTIONS = frozenset({"isolation_level", "server_side_binding", "assume_role", "pool"})


@dataclass(frozen=True)
class PgServer:
    """A PostgreSQL server and the role to log in as, from a DATABASE_URL (its database aside).

    What the URL leaves out stays out, so libpq's defaults apply as they do for Django: no host is the Unix
    socket, no user the operating-system user.
    """

    host: str = ""  # a name, an address, or a socket directory ("/var/run/postgresql")
    port: int | None = None
    user: str = ""
    password: str = ""
    options: dict = field(default_factory=dict)  # the URL's query, as dj-database-url reads it (sslmode=...)

    @classmethod
    def from_url(cls, url: str) -> "PgServer | None":
        """The server of a PostgreSQL DATABASE_URL, read as Django reads it; None for another database."""
        config = dj_database_url.parse(url)
        if config["ENGINE"] != _POSTGRESQL:
            return None
        return cls(
            host=config.get("HOST") or "",
            port=int(config["PORT"]) if config.get("PORT") else None,
            user=config.get("USER") or "",
            password=config.get("PASSWORD") or "",
            options=dict(config.get("OPTIONS") or {}),
        )

    @property
    def local(self) -> bool:
        return self.host in ("", "127.0.0.1", "localhost", "::1") or self.host.startswith("/")

    def connect_params(self, dbname: str) -> dict:
        """psycopg2.connect's keyword arguments for ``dbname`` on this server."""
        params = {key: value for key, value in self.options.items() if key not in _DJANGO_OPTIONS}
        parts = {"host": self.host, "port": self.port, "user": self.user, "password": self.password}
        params.update({key: value for key, value in parts.items() if value})
        return {**params, "dbname": dbname}

    def database_url(self, dbname: str) -> str:
        """A DATABASE_URL for ``dbname`` on this server: dj-database-url reads the same parts back from it."""
        quote = urllib.parse.quote
        login = ""
        if self.user or self.password:
            login = quote(self.user, safe="") + (f":{quote(self.password, safe='')}" if self.password else "") + "@"
        # A socket directory is written %-encoded, as dj-database-url reads it; an IPv6 address in brackets.
        host = quote(self.host, safe="") if self.host.startswith("/") else self.host
        host = f"[{host}]" if ":" in host else host
        port = f":{self.port}" if self.port else ""
        query = urllib.parse.urlencode(self.options, doseq=True)
        # Written out rather than by urlunsplit, which drops the "//" of an empty host ("postgresql:/name").
        return f"postgresql://{login}{host}{port}/{quote(dbname, safe='')}" + (f"?{query}" if query else "")


# With no PostgreSQL DATABASE_URL (SQLite, or none), the local server as CI and the README run it.
LOCAL_SERVER = PgServer(host="127.0.0.1", port=5432, user="postgres")


def bench_server(database_url: str | None = None) -> PgServer:
    """The server to create the bench database on: that of DATABASE_URL if it is PostgreSQL, else the local one."""
    url = os.environ.get("DATABASE_URL", "") if database_url is None else database_url
    return (PgServer.from_url(url) if url else None) or LOCAL_SERVER


def experiment_file() -> Path:
    """The real Kubernetes definition once it ships; until then the synthetic one of the same shape."""
    return REAL_FIXTURE if REAL_FIXTURE.exists() else BENCH_FIXTURE


def connect(server: PgServer, dbname: str = ADMIN_DATABASE):
    """An autocommit connection (CREATE and DROP DATABASE run outside a transaction)."""
    conn = psycopg2.connect(**{"connect_timeout": 10, **server.connect_params(dbname)})
    conn.autocommit = True
    return conn


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def drop_stale_databases(server: PgServer) -> list[str]:
    """Drop bench databases left by runs whose process is gone (a killed run cannot clean up after itself)."""
    dropped = []
    conn = connect(server)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (DB_PREFIX + "%",))
            for (name,) in cur.fetchall():
                match = re.fullmatch(DB_PREFIX + r"(\d+)", name)
                if match and not _pid_alive(int(match.group(1))):
                    cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    dropped.append(name)
    finally:
        conn.close()
    return dropped


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (gunicorn's workers), read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # Field 4 is the parent pid; the command name (field 2) may hold spaces, so split after its ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return sorted(found)


@dataclass
class Server:
    """How gunicorn runs: the worker class and counts are part of every figure."""

    # As the Dockerfile runs it.
    workers: int = 5
    threads: int = 1
    worker_class: str = "gthread"
    keep_alive: int = 75  # as the Dockerfile runs it: longer than nginx keeps an idle upstream connection

    def describe(self) -> str:
        if self.worker_class == "gthread":
            return f"gunicorn gthread, {self.workers} workers x {self.threads} threads, keep-alive {self.keep_alive} s"
        return f"gunicorn {self.worker_class}, {self.workers} workers"


@dataclass
class Stack:
    server: Server = field(default_factory=Server)
    postgres: PgServer = field(default_factory=bench_server)
    serve: bool = True  # False: only the database (the researcher-side benchmark needs no web server)
    db_name: str = field(default_factory=lambda: f"{DB_PREFIX}{os.getpid()}")
    port: int = 0
    experiment: Path | None = None  # None: the real definition if it loads, else the synthetic one
    join_code: str = ""
    calibration_code: str = ""
    gunicorn: subprocess.Popen | None = None
    tmp: Path | None = None
    env: dict = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_url(self) -> str:
        return self.postgres.database_url(self.db_name)

    def say(self, message: str) -> None:
        self.log.append(message)
        print(f"[stack] {message}", flush=True)

    # -- lifecycle ------------------------------------------------------------------------------------------

    def __enter__(self) -> "Stack":
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="threatlab-bench-"))
        stale = drop_stale_databases(self.postgres)
        if stale:
            self.say(f"dropped databases of dead runs: {', '.join(stale)}")
        conn = connect(self.postgres)
        try:
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{self.db_name}"')
        finally:
            conn.close()
        self.say(f"created database {self.db_name}")
        self.env = {
            **os.environ,
            "DATABASE_URL": self.db_url,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "BENCH_STATIC_ROOT": str(self.tmp / "static"),
            "TRUSTED_PROXY_COUNT": "0",
            "PYTHONPATH": str(REPO),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        started = time.monotonic()
        self.manage("migrate", "--noinput")
        self.load_experiment()
        self.join_code = self._session("lab")
        if not self.serve:
            self.say(f"migrated, loaded {self.experiment.name}, session {self.join_code}")
            return
        self.calibration_code = self._session("calibration")
        self.manage("collectstatic", "--noinput")
        self.say(
            f"migrated, loaded {self.experiment.name}, sessions {self.join_code} (lab) and "
            f"{self.calibration_code} (calibration) in {time.monotonic() - started:.1f} s"
        )
        self.start_gunicorn()

    def load_experiment(self) -> None:
        if self.experiment is not None:
            self.manage("load_experiment", str(self.experiment))
            return
        self.experiment = experiment_file()
        try:
            self.manage("load_experiment", str(self.experiment))
        except RuntimeError as error:
            if self.experiment == BENCH_FIXTURE:
                raise
            # The real definition is edited alongside the code; a run should not stop on a half-edited copy.
            self.say(f"WARNING: {self.experiment.name} did not load, using {BENCH_FIXTURE.name}: {error}")
            self.experiment = BENCH_FIXTURE
            self.manage("load_experiment", str(self.experiment))

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [PYTHON, str(REPO / "manage.py"), *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def _session(self, label: str) -> str:
        # The driver's students all come from 127.0.0.1: the session lets all of them join (the default limit on
        # new participants per address is 200 in 10 minutes).
        out = self.manage(
            "create_session", "--open", "--label", f"bench {label}", "--new-participants-per-address", "100000"
        )
        match = re.search(r"Session (\w+) ", out)
        if not match:
            raise RuntimeError(f"create_session printed no join code: {out!r}")
        return match.group(1)

    def start_gunicorn(self) -> None:
        assert self.tmp is not None
        self.port = free_port()
        command = [
            str(BIN / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.server.workers),
            "--worker-class",
            self.server.worker_class,
            "--threads",
            str(self.server.threads),
            "--keep-alive",
            str(self.server.keep_alive),
            "--backlog",
            "2048",
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
            "--pid",
            str(self.tmp / "gunicorn.pid"),
            "--error-logfile",
            str(self.tmp / "gunicorn.log"),
            "--capture-output",
            # As deployed (Dockerfile): no access log; every request's figures are in the driver's samples.
        ]
        self.gunicorn = subprocess.Popen(
            command, cwd=REPO, env=self.env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        self.wait_healthy(timeout=30)
        self.say(f"{self.server.describe()} on {self.base_url}, master pid {self.gunicorn.pid}")

    def healthy(self) -> bool:
        request = urllib.request.Request(self.base_url + "/healthz", headers={"X-Forwarded-Proto": "https"})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def wait_healthy(self, timeout: float) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.gunicorn is not None and self.gunicorn.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.gunicorn.returncode}:\n{self.gunicorn_log()}")
            if self.healthy():
                return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn not healthy after {timeout} s:\n{self.gunicorn_log()}")

    def gunicorn_log(self) -> str:
        path = self.tmp / "gunicorn.log" if self.tmp else None
        return path.read_text(errors="replace")[-4000:] if path and path.exists() else ""

    def workers(self) -> list[int]:
        return children_of(self.gunicorn.pid) if self.gunicorn else []

    def stop_gunicorn(self) -> None:
        process, self.gunicorn = self.gunicorn, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        # The master leads its own process group: this also ends any worker it left behind.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()

    def close(self) -> None:
        try:
            self.stop_gunicorn()
        finally:
            try:
                self.drop_database()
            finally:
                if self.tmp is not None:
                    shutil.rmtree(self.tmp, ignore_errors=True)
                    self.tmp = None

    def drop_database(self) -> None:
        for _attempt in range(30):
            try:
                conn = connect(self.postgres)
            except psycopg2.OperationalError:
                # PostgreSQL may still be coming back from a restart fault.
                time.sleep(1)
                continue
            try:
                with conn.cursor() as cur:
                    cur.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
                self.say(f"dropped database {self.db_name}")
                return
            finally:
                conn.close()
        print(f"[stack] could not drop {self.db_name}; the next run drops it", file=sys.stderr)

    def connect(self):
        """A connection to the bench database, for the checks after a run."""
        return connect(self.postgres, self.db_name)
