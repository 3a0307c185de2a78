"""Faults injected into a running lab, and what each did to the students.

- ``pg-restart``: PostgreSQL restarted (``pg_ctlcluster ... restart``) in the middle of the submit window. Only
  against a server on this machine, only when asked for by name, and the run makes sure it is up again afterwards.
- ``worker-kill``: one gunicorn worker killed with SIGKILL while it serves requests; the master starts another.
- ``instance-kill``: scaled out (``--replicas`` 2 or more), the second gunicorn instance killed whole (its master
  and workers, SIGKILL to them all at once), as when a container crashes; it stays down. nginx passes the requests
  it had not yet sent there to another instance; a request in flight there fails, and its student sends it again.
- ``client-drop``: some students lose their connection while submitting (consent, answers, ratings) and send the
  same POST again, as a browser's reload does. Half the drops happen after the whole request went out (the server
  finishes it and nobody reads the answer), half in the middle of the body (the server never gets the whole form).
"""

import asyncio
import os
import random
import shutil
import signal
import ssl
import subprocess
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.driver import Browser, Recorder, Sample, Student, student_address
from bench.stack import Stack

FAULTS = ("pg-restart", "worker-kill", "instance-kill", "client-drop")
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


def kill_instance(stack: Stack) -> tuple[float, str]:
    if len(stack.instances) < 2:
        raise RuntimeError("instance-kill needs --replicas 2 or more: with one instance the lab itself would stop")
    victim = stack.instances[1]
    started = time.monotonic()
    pids = stack.kill_instance(victim)
    return time.monotonic() - started, f"killed {victim.name} (SIGKILL to its master and {len(pids) - 1} workers)"


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
        elif fault == "instance-kill":
            seconds, detail = await asyncio.to_thread(kill_instance, stack)
        else:
            raise ValueError(f"unknown fault {fault!r}")
        log.events.append(Event(fault, started, seconds, detail))
        print(f"[fault] t={started:.1f}s {fault}: {detail}", flush=True)
        when += 10.0


class ClientDrops:
    """A drop hook for the driver: selected students drop their connection once per submit, then retry."""

    def __init__(self, port: int, fraction: float, seed: int, tls: bool = False):
        self.port = port
        self.tls = tls
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
            *([] if self.tls else ["X-Forwarded-Proto: https"]),  # through nginx, nginx says it
            f"Origin: {browser.origin}",
            "Connection: close",
        ]
        if browser.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in browser.cookies.items()))
        payload = ("\r\n".join(head) + "\r\n\r\n").encode() + (body if mode == "after-send" else body[: len(body) // 2])
        context = None
        if self.tls:
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        _reader, writer = await asyncio.open_connection(
            "127.0.0.1", self.port, ssl=context, local_addr=(student_address(student.index), 0)
        )
        writer.write(payload)
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        student.drops.append(f"{step}:{mode}")
        # The person sees the browser's "connection lost" page and presses reload, at once or after a moment.
        await asyncio.sleep(student.rng.choice([0.0, 0.2, 1.0, 2.0]))


def instance_kill_effect(samples: list[Sample], event: Event) -> dict:
    """What killing an instance did: the requests that failed from then on, the requests sent again, and which
    instance answered the requests sent before the kill, those in flight across it and those sent after it (none
    the dead one: nginx sends them elsewhere)."""
    at, done = event.at, event.at + event.seconds
    failed = [s for s in samples if s.at + s.latency >= at and (s.status == 0 or s.status >= 500)]
    retried = [s for s in samples if s.retry and s.at >= at]
    answered: dict[str, Counter] = {"before": Counter(), "in_flight": Counter(), "after": Counter()}
    for sample in samples:
        if sample.instance and sample.step != "reference":
            when = "after" if sample.at >= done else "before" if sample.at + sample.latency < at else "in_flight"
            answered[when][sample.instance] += 1
    return {
        "killed_at_s": round(at, 1),
        "failed": len(failed),
        "failed_by_kind": dict(Counter(f"{s.step}: {s.error or s.status}" for s in failed).most_common()),
        "failed_sent_within_s": [round(min(s.at for s in failed) - at, 2), round(max(s.at for s in failed) - at, 2)]
        if failed
        else None,
        "retried": len(retried),
        "retried_by_step": dict(Counter(s.step for s in retried).most_common()),
        **{f"answered_{when}_by_instance": dict(sorted(counts.items())) for when, counts in answered.items()},
    }
