"""Where the two cores went during a run: the driver, gunicorn, PostgreSQL, nginx, and everything else.

Read from /proc: a process's own CPU time (utime + stime) and, for PostgreSQL's postmaster, that of the backends
it has already reaped (cutime + cstime), so short-lived connections are counted too.
"""

import os
import resource
from dataclasses import dataclass
from pathlib import Path

from bench.stack import children_of

_TICK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    # Fields after the command name, which is in parentheses and may hold spaces; index 0 here is field 3.
    return stat.rsplit(")", 1)[1].split()


def process_seconds(pid: int, reaped_children: bool = False) -> float:
    fields = _stat_fields(pid)
    if not fields:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICK


def tree_seconds(root: int) -> float:
    """A process and its live children, plus the children it has reaped."""
    return process_seconds(root, reaped_children=True) + sum(process_seconds(pid) for pid in children_of(root))


def machine_busy_seconds() -> float:
    """CPU seconds spent by anything on the machine (all cores): total minus idle and I/O wait."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / _TICK


def driver_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def postmaster_of(conn) -> int | None:
    """The PostgreSQL server's main process, when it runs on this machine (the parent of our backend)."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
    fields = _stat_fields(backend)
    return int(fields[1]) if fields else None


@dataclass
class CpuSnapshot:
    at: float
    machine: float
    driver: float
    gunicorn: dict[int, float]  # per instance's master: its tree's seconds
    postgres: float
    nginx: float = 0.0


def snapshot(at: float, gunicorn_pids: list[int], postmaster: int | None, nginx_pid: int | None = None) -> CpuSnapshot:
    return CpuSnapshot(
        at=at,
        machine=machine_busy_seconds(),
        driver=driver_seconds(),
        gunicorn={pid: tree_seconds(pid) for pid in gunicorn_pids},
        postgres=tree_seconds(postmaster) if postmaster else 0.0,
        nginx=tree_seconds(nginx_pid) if nginx_pid else 0.0,
    )


def _gunicorn_used(before: CpuSnapshot, after: CpuSnapshot) -> float:
    """The instances' CPU between the two; an instance killed in between took its counters with it and counts as
    "other" (its /proc entry is gone: it reads 0)."""
    return sum(after.gunicorn[pid] - seconds for pid, seconds in before.gunicorn.items() if after.gunicorn.get(pid))


def shares(before: CpuSnapshot, after: CpuSnapshot) -> dict:
    """Cores used on average over the interval, by whom (2.0 = both cores busy all the time)."""
    seconds = after.at - before.at
    if seconds <= 0:
        return {}
    used = {
        "machine": after.machine - before.machine,
        "driver": after.driver - before.driver,
        "gunicorn": _gunicorn_used(before, after),
        "postgres": after.postgres - before.postgres,
    }
    if after.nginx:
        used["nginx"] = after.nginx - before.nginx
    if used["postgres"] < 0 or used["gunicorn"] < 0:
        # A restarted PostgreSQL or gunicorn took its counters with it: only the machine total is known.
        return {"machine": round(used["machine"] / seconds, 2), "driver": round(used["driver"] / seconds, 2)}
    used["other"] = max(0.0, used["machine"] - sum(v for k, v in used.items() if k != "machine"))
    return {k: round(v / seconds, 2) for k, v in used.items()}
