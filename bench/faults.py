"""Faults injected into a running lab, and what each did to the students.

- ``pg-restart``: PostgreSQL restarted (``pg_ctlcluster ... restart``) in the middle of the submit window. Only
  against a server on this machine, only when asked for by name, and the run makes sure it is up again afterwards.
- ``worker-kill``: one gunicorn worker killed with SIGKILL while it serves requests; the master starts another.
- ``client-drop``: some students lose their connection while submitting (consent, answers, ratings) and send the
  same POST again, as a browser's reload does. Half the drops happen after the whole request went out (the server
  finishes it and nobody reads the answer), half in the middle of the body (the server never gets the whole form).
"""

import asyncio
import os
import random
import shutil
import signal
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from bench.driver import Browser, Recorder, Student
from bench.stack import Stack

FAULTS = ("pg-restart", "worker-kill", "client-drop")
DROPPED_STEPS = ("consent_submit", "threats_submit", "usefulness_submit")


@dataclass
class Event:
    fault: str
    at: float
    seconds: float
    detail: str


@dataclass
class FaultLog:
    events: list[Event] = field(default_factory=list)


def _cluster_version() -> str:
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir() if p.is_dir())
    if not versions:
        raise RuntimeError("no PostgreSQL cluster under /etc/postgresql")
    return versions[-1]


def pg_ready(stack: Stack) -> bool:
    server = stack.postgres
    # What the URL leaves out, pg_isready takes from libpq's defaults, as the app's connections do.
    command = ["pg_isready", "-q"]
    command += ["-h", server.host] if server.host else []
    command += ["-p", str(server.port)] if server.port else []
    result = subprocess.run(command, capture_output=True, timeout=10)
    return result.returncode == 0


def ensure_pg_up(stack: Stack) -> None:
    """After a restart fault: PostgreSQL must be serving again, for this run and for everyone else's."""
    for _ in range(60):
        if pg_ready(stack):
            return
        time.sleep(1)
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", _cluster_version(), "main", "start"], timeout=120)
    for _ in range(60):
        if pg_ready(stack):
            return
        time.sleep(1)
    raise RuntimeError("PostgreSQL is not back up after the restart fault")


def restart_postgres(stack: Stack) -> tuple[float, str]:
    if not stack.postgres.local:
        raise RuntimeError(f"refusing to restart PostgreSQL on {stack.postgres.host}: only a server on this machine")
    if shutil.which("pg_ctlcluster") is None:
        raise RuntimeError("pg_ctlcluster is not installed")
    started = time.monotonic()
    try:
        result = subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", _cluster_version(), "main", "restart"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        ensure_pg_up(stack)
    seconds = time.monotonic() - started
    outcome = "restarted" if result.returncode == 0 else f"pg_ctlcluster exited {result.returncode}: {result.stderr}"
    return seconds, outcome


def kill_worker(stack: Stack) -> tuple[float, str]:
    workers = stack.workers()
    if not workers:
        return 0.0, "no worker to kill"
    victim = random.Random(len(workers)).choice(workers)
    os.kill(victim, signal.SIGKILL)
    started = time.monotonic()
    while time.monotonic() - started < 30:
        current = stack.workers()
        if victim not in current and len(current) == len(workers):
            break
        time.sleep(0.05)
    replaced = time.monotonic() - started
    return replaced, f"killed worker {victim} (SIGKILL); the master had a new one after {replaced:.2f} s"


async def run_server_faults(stack: Stack, recorder: Recorder, faults: list[str], at: float, log: FaultLog) -> None:
    """Inject the server-side faults, one after the other from ``at`` seconds, 10 s apart."""
    when = at
    for fault in faults:
        if fault == "client-drop":
            continue
        await recorder.sleep_until(when)
        started = recorder.now()
        if fault == "pg-restart":
            seconds, detail = await asyncio.to_thread(restart_postgres, stack)
        elif fault == "worker-kill":
            seconds, detail = await asyncio.to_thread(kill_worker, stack)
        else:
            raise ValueError(f"unknown fault {fault!r}")
        log.events.append(Event(fault, started, seconds, detail))
        print(f"[fault] t={started:.1f}s {fault}: {detail}", flush=True)
        when += 10.0


class ClientDrops:
    """A drop hook for the driver: selected students drop their connection once per submit, then retry."""

    def __init__(self, port: int, fraction: float, seed: int):
        self.port = port
        self.fraction = fraction
        self.rng = random.Random(seed)
        self.chosen: dict[int, bool] = {}
        self.count = 0

    def _chosen(self, student: Student) -> bool:
        if student.index not in self.chosen:
            self.chosen[student.index] = self.rng.random() < self.fraction
        return self.chosen[student.index]

    async def __call__(self, student: Student, browser: Browser, step: str, path: str, data: dict) -> None:
        if step not in DROPPED_STEPS or not self._chosen(student):
            return
        mode = "after-send" if self.count % 2 == 0 else "mid-body"
        self.count += 1
        body = urllib.parse.urlencode(data).encode()
        head = [
            f"POST {path} HTTP/1.1",
            f"Host: 127.0.0.1:{self.port}",
            "Content-Type: application/x-www-form-urlencoded",
            f"Content-Length: {len(body)}",
            "X-Forwarded-Proto: https",
            f"Origin: {browser.origin}",
            "Connection: close",
        ]
        if browser.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in browser.cookies.items()))
        payload = ("\r\n".join(head) + "\r\n\r\n").encode() + (body if mode == "after-send" else body[: len(body) // 2])
        _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(payload)
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        student.drops.append(f"{step}:{mode}")
        # The person sees the browser's "connection lost" page and presses reload, at once or after a moment.
        await asyncio.sleep(student.rng.choice([0.0, 0.2, 1.0, 2.0]))
