"""nginx in front of the bench's gunicorn instances: the repo's deploy/nginx.conf, as compose runs it, on this machine.

The site is a copy of deploy/nginx.conf that differs only in the lines ``DIFFERENCES`` names, each line for line (a
test holds the copy to that, tests/test_bench_scale_out.py). Around it, a main configuration as the nginx image's
own /etc/nginx/nginx.conf, with its paths in the run's folder. nginx runs as a child process in the foreground,
with its own prefix, pid file and logs, so it leaves nothing behind and touches no system nginx.
"""

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / "deploy" / "nginx.conf"


@dataclass(frozen=True)
class Difference:
    deployed: str  # text of deploy/nginx.conf, on one line
    why: str


# Every way the bench's copy differs from deploy/nginx.conf. Each replaces text within one line, so the copy has the
# file's lines, in order.
DIFFERENCES = (
    Difference("listen 80;", "a free port on 127.0.0.1: port 80 may be taken, and a run must not clash with another"),
    Difference("listen 443 ssl;", "a free port on 127.0.0.1 for TLS, for the same reason"),
    Difference(
        "http2 on;",
        "commented out: Debian 12's nginx 1.22 does not know the directive (1.25.1 does), and the driver speaks "
        "HTTP/1.1 only, as aiohttp does, so it would change nothing here",
    ),
    Difference("server web:8000;", "the gunicorn instances on 127.0.0.1, where compose names the `web` replicas"),
    Difference("/etc/nginx/certs/fullchain.pem", "a self-signed certificate made for the run"),
    Difference("/etc/nginx/certs/privkey.pem", "its key"),
    Difference("/var/log/nginx/access.log", "the run's folder (twice: the plain and the TLS server)"),
)


def site(plain_port: int, tls_port: int, upstreams: list[int], folder: Path, text: str | None = None) -> str:
    """deploy/nginx.conf with the ``DIFFERENCES`` filled in for this run."""
    text = SITE.read_text() if text is None else text
    here = {
        "listen 80;": f"listen 127.0.0.1:{plain_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{tls_port} ssl;",
        "http2 on;": "# http2 on;",
        "server web:8000;": " ".join(f"server 127.0.0.1:{port};" for port in upstreams),
        "/etc/nginx/certs/fullchain.pem": str(folder / "cert.pem"),
        "/etc/nginx/certs/privkey.pem": str(folder / "key.pem"),
        "/var/log/nginx/access.log": str(folder / "access.log"),
    }
    for difference in DIFFERENCES:
        if difference.deployed not in text:
            raise RuntimeError(f"deploy/nginx.conf no longer has {difference.deployed!r}: update bench/proxy.py")
        text = text.replace(difference.deployed, here[difference.deployed])
    return text


def main_conf(folder: Path) -> str:
    """The nginx image's /etc/nginx/nginx.conf (1.27-bookworm), paths in ``folder``; nginx serves no file itself
    here, so its MIME types are left out. The workers run as the user running the bench (the image's: ``nginx``)."""
    temp_paths = "".join(
        f"    {kind}_temp_path {folder / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"user {getpass.getuser()};\n"
        "worker_processes auto;\n"
        f"error_log {folder / 'error.log'} notice;\n"
        f"pid {folder / 'nginx.pid'};\n"
        "events {\n    worker_connections 1024;\n}\n"
        "http {\n"
        "    default_type application/octet-stream;\n"
        "    sendfile on;\n"
        "    keepalive_timeout 65;\n"
        f"{temp_paths}"
        f"    include {folder / 'site.conf'};\n"
        "}\n"
    )


def self_signed_certificate(folder: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("openssl is not installed: it makes the proxy's self-signed certificate")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        check=True,
        capture_output=True,
    )


class Nginx:
    """nginx in the foreground (``daemon off``), its master a child of the bench, started on ``upstreams``."""

    def __init__(self, folder: Path, upstreams: list[int], plain_port: int, tls_port: int):
        self.binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(self.binary).exists():
            raise RuntimeError("nginx is not installed (apt-get install nginx; .ci/run installs it)")
        self.folder = folder
        self.tls_port = tls_port
        folder.mkdir(parents=True, exist_ok=True)
        self_signed_certificate(folder)
        (folder / "site.conf").write_text(site(plain_port, tls_port, upstreams, folder))
        (folder / "nginx.conf").write_text(main_conf(folder))
        self.process = subprocess.Popen(
            [self.binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_listening(timeout=10)

    def _wait_listening(self, timeout: float) -> None:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.process.returncode}:\n{self.error_log()}")
            try:
                socket.create_connection(("127.0.0.1", self.tls_port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx not listening after {timeout} s:\n{self.error_log()}")

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish the requests in flight
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        try:
            # The master leads its own process group: this also ends a worker it left behind.
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
