"""What a benchmark run stands on: a fresh PostgreSQL database, the app migrated and loaded, gunicorn serving it.

``Stack`` is a context manager that starts all of it and, whatever happens inside, stops gunicorn (the master, then
its whole process group) and drops the database. Nothing is left running or stored.

Scaled out (``replicas`` > 1, or ``proxy="nginx"``) it runs what docker-compose.yml runs: several gunicorn
instances (compose's ``web`` replicas, started as the Dockerfile starts one) on the one database, their limits
counted in one Redis, behind nginx with the repo's deploy/nginx.conf (bench/proxy.py) terminating TLS. The app
then trusts X-Forwarded-Proto and X-Forwarded-For only from nginx's address, as in compose.
"""

import json
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

from bench.proxy import Nginx

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
BENCH_FIXTURE = REPO / "bench" / "fixture" / "bench-experiment.json"
REAL_FIXTURE = REPO / "fixtures" / "kubernetes-pod-dfd.json"
DB_PREFIX = "threatlab_bench_"
# The flood session's own limit on new participants per address (bench/limits.py floods it from one address).
FLOOD_SESSION_LIMIT = 20


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


def flush_redis(url: str) -> None:
    """Empty the Redis database of ``url``, so a run starts with no count left by another."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except redis.RedisError as error:
        raise RuntimeError(f"no Redis at {url} for the limits' counters ({error}); start redis-server") from None


def _running(pid: int) -> bool:
    """Whether ``pid`` still runs: not gone, and not a zombie waiting for its parent to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


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


# Where a scaled-out run counts its limits: a database of the local Redis that nothing else here uses (the tests of
# the limits use 0). A run flushes it when it starts; its keys are hashed with the run's own SECRET_KEY, so two
# runs at once would not read each other's counts.
BENCH_REDIS_URL = "redis://127.0.0.1:6379/15"


@dataclass
class Instance:
    """One gunicorn master and its workers, serving on ``port``: one container of compose's ``web``."""

    name: str  # "web-1", ...: the X-Bench-Instance header of every response it gives
    port: int
    process: subprocess.Popen
    log: Path


@dataclass
class Stack:
    server: Server = field(default_factory=Server)
    replicas: int = 1
    proxy: str = ""  # "nginx": the students reach the instances through nginx, over TLS
    redis_url: str = BENCH_REDIS_URL  # used when scaled out
    postgres: PgServer = field(default_factory=bench_server)
    serve: bool = True  # False: only the database (the researcher-side benchmark needs no web server)
    db_name: str = field(default_factory=lambda: f"{DB_PREFIX}{os.getpid()}")
    port: int = 0  # where the students connect: nginx's TLS port, or the one gunicorn's
    experiment: Path | None = None  # None: the real definition if it loads, else the synthetic one
    join_code: str = ""
    calibration_code: str = ""
    flood_code: str = ""  # scaled out: a session of its own for the limits' check (bench/limits.py)
    instances: list[Instance] = field(default_factory=list)
    nginx: Nginx | None = None
    tmp: Path | None = None
    env: dict = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    @property
    def scaled_out(self) -> bool:
        return self.replicas > 1 or bool(self.proxy)

    @property
    def base_url(self) -> str:
        return f"{'https' if self.proxy else 'http'}://127.0.0.1:{self.port}"

    @property
    def gunicorn(self) -> subprocess.Popen | None:
        """The first instance's master (the only one unless scaled out)."""
        return self.instances[0].process if self.instances else None

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
        if self.replicas > 1 and self.proxy != "nginx":
            raise ValueError("more than one replica needs --proxy nginx in front of them")
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
        if self.scaled_out:
            self.port = free_port()
            self.env.update(
                {
                    # As docker-compose.yml: the limits in Redis, the proxy's address the only one trusted.
                    "REDIS_URL": self.redis_url,
                    "FORWARDED_ALLOW_IPS": "127.0.0.1",
                    "TRUSTED_PROXY_COUNT": "1",
                    # nginx passes `Host $host`, without the port; a browser's Origin names it when it is not 443.
                    "CSRF_TRUSTED_ORIGINS": self.base_url,
                }
            )
            flush_redis(self.redis_url)
        started = time.monotonic()
        self.manage("migrate", "--noinput")
        self.load_experiment()
        self.join_code = self._session("lab")
        if not self.serve:
            self.say(f"migrated, loaded {self.experiment.name}, session {self.join_code}")
            return
        self.calibration_code = self._session("calibration")
        if self.scaled_out:
            self.flood_code = self._session("flood", "--new-participants-per-address", str(FLOOD_SESSION_LIMIT))
        self.manage("collectstatic", "--noinput")
        self.say(
            f"migrated, loaded {self.experiment.name}, sessions {self.join_code} (lab) and "
            f"{self.calibration_code} (calibration) in {time.monotonic() - started:.1f} s"
        )
        for number in range(1, self.replicas + 1):
            self.start_gunicorn(f"web-{number}")
        if self.proxy == "nginx":
            self.nginx = Nginx(self.tmp / "nginx", [i.port for i in self.instances], free_port(), self.port)
            self.say(f"nginx (deploy/nginx.conf) on {self.base_url} in front of {len(self.instances)} instances")

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

    def setting(self, name: str):
        """A setting as the app's processes read it (its default, or what the environment says)."""
        code = f"import json; from django.conf import settings; print(json.dumps(settings.{name}))"
        return json.loads(self.manage("shell", "-c", code).strip().splitlines()[-1])

    def _session(self, label: str, *options: str) -> str:
        # The site's limits apply: each student comes from an address of its own (bench/driver.py).
        out = self.manage("create_session", "--open", "--label", f"bench {label}", *options)
        match = re.search(r"Session (\w+) ", out)
        if not match:
            raise RuntimeError(f"create_session printed no join code: {out!r}")
        return match.group(1)

    def start_gunicorn(self, name: str = "web-1") -> None:
        assert self.tmp is not None
        port = free_port()
        log = self.tmp / f"gunicorn-{name}.log"
        command = [
            str(BIN / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
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
            str(self.tmp / f"gunicorn-{name}.pid"),
            "--error-logfile",
            str(log),
            "--capture-output",
            # Each instance its own (gunicorn's default is one path per user): as each container has its own.
            "--control-socket",
            str(self.tmp / f"gunicorn-{name}.ctl"),
            # As deployed (Dockerfile): no access log; every request's figures are in the driver's samples.
        ]
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env={**self.env, "BENCH_INSTANCE": name},
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        instance = Instance(name, port, process, log)
        self.instances.append(instance)
        if not self.scaled_out:
            self.port = port
        self.wait_healthy(instance, timeout=60)
        self.say(f"{name}: {self.server.describe()} on 127.0.0.1:{port}, master pid {process.pid}")

    @staticmethod
    def healthy(instance: Instance) -> bool:
        request = urllib.request.Request(
            f"http://127.0.0.1:{instance.port}/healthz", headers={"X-Forwarded-Proto": "https"}
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def wait_healthy(self, instance: Instance, timeout: float) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if instance.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {instance.process.returncode}:\n{self.gunicorn_log()}")
            if self.healthy(instance):
                return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn not healthy after {timeout} s:\n{self.gunicorn_log()}")

    def gunicorn_log(self) -> str:
        """The end of every instance's log."""
        parts = []
        for instance in self.instances:
            text = instance.log.read_text(errors="replace")[-4000:] if instance.log.exists() else ""
            parts.append(f"[{instance.name}]\n{text}" if len(self.instances) > 1 else text)
        return "\n".join(parts)

    def workers(self) -> list[int]:
        """The first instance's workers."""
        return children_of(self.gunicorn.pid) if self.gunicorn else []

    def masters(self) -> list[int]:
        """The masters of the instances still running."""
        return [i.process.pid for i in self.instances if i.process.poll() is None]

    def kill_instance(self, instance: Instance) -> list[int]:
        """SIGKILL to the master and its workers at once, as when a container crashes; returns, with the pids it
        killed, once none of them runs (a worker may outlive its master by the moment the kernel takes to end it)."""
        pids = [instance.process.pid, *children_of(instance.process.pid)]
        os.killpg(instance.process.pid, signal.SIGKILL)
        instance.process.wait()
        while any(_running(pid) for pid in pids):
            time.sleep(0.001)
        return pids

    def stop_gunicorn(self) -> None:
        instances, self.instances = self.instances, []
        for instance in instances:
            self._stop(instance.process)

    @staticmethod
    def _stop(process: subprocess.Popen) -> None:
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
            nginx, self.nginx = self.nginx, None
            if nginx is not None:
                nginx.stop()
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
