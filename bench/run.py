"""A whole class at once: N students through the real HTTP flow against gunicorn on a fresh PostgreSQL database.

    .venv/bin/python bench/run.py                       # 500 students: join within 10 s, submit within 60 s
    .venv/bin/python bench/run.py -n 50 --join-window 3 --submit-window 10
    .venv/bin/python bench/run.py -n 200 --fault worker-kill --fault client-drop
    .venv/bin/python bench/run.py --replicas 3 --proxy nginx --fault instance-kill

One run: create the database threatlab_bench_<pid>, migrate, load the experiment, open a session, start gunicorn;
measure the reference view and each student page back to back (capacity, as ratios); run the class with the
reference probed alongside; check the database against what every student sent; print the figures; stop gunicorn
and drop the database. Exit status 1 when anything was lost, doubled or left unfinished (and, with
--enforce-targets, when a target was missed).

Scaled out (``--replicas N --proxy nginx``), as docker-compose.yml deploys: N gunicorn instances on the one
database and one Redis, behind nginx with deploy/nginx.conf over TLS (bench/stack.py, bench/proxy.py); before the
class, one address's wrong join codes and consents check that the limits hold across the instances
(bench/limits.py).
"""

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import cpu, report  # noqa: E402
from bench import faults as fault_tools  # noqa: E402
from bench.busy import busy  # noqa: E402
from bench.checks import run_checks  # noqa: E402
from bench.driver import (  # noqa: E402
    Lab,
    Plan,
    Recorder,
    Student,
    class_plans,
    closed_loop,
    loop_lag,
    probe_reference,
    run_class,
)
from bench.limits import check_limits  # noqa: E402
from bench.stack import FLOOD_SESSION_LIMIT, Server, Stack, children_of  # noqa: E402

# Rounds of the capacity part; each page is compared with the reference of its own round.
CAPACITY_ROUNDS = 5


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--students", type=int, default=500, help="simulated students (default 500)")
    parser.add_argument("--join-window", type=float, default=10.0, help="everyone arrives within it (s)")
    parser.add_argument("--submit-window", type=float, default=60.0, help="everyone submits within it (s)")
    parser.add_argument("--gap", type=float, default=5.0, help="reading time between the two windows (s)")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn workers (default 5, as deployed)")
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker (default 1, as deployed)")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--keep-alive", type=int, default=75, help="gunicorn --keep-alive (default 75, as deployed)")
    parser.add_argument(
        "--replicas", type=int, default=1, help="gunicorn instances, each with --workers (more than 1: --proxy nginx)"
    )
    parser.add_argument(
        "--proxy", choices=["nginx"], help="put nginx with deploy/nginx.conf in front, over TLS, limits in Redis"
    )
    parser.add_argument("--seed", type=int, default=1, help="seeds arrivals, think times and answers")
    parser.add_argument(
        "--calibrate-seconds",
        type=float,
        default=1.0,
        help=f"per page (and reference) and round ({CAPACITY_ROUNDS} rounds); 0 skips the capacity part",
    )
    parser.add_argument("--fault", action="append", default=[], choices=fault_tools.FAULTS, help="repeatable")
    parser.add_argument("--fault-at", type=float, help="when the first server fault hits (s; default mid-submit)")
    parser.add_argument("--drop-fraction", type=float, default=0.2, help="students who drop during submits")
    parser.add_argument("--retry-for", type=float, default=90.0, help="how long a student keeps retrying (s)")
    parser.add_argument("--experiment", type=Path, help="definition to load (default: the Kubernetes one)")
    parser.add_argument(
        "--busy-cores",
        type=_busy_cores,
        default=0.0,
        help="run processes that keep this many cores busy beside the lab, to see how much room it leaves",
    )
    parser.add_argument(
        "--extra-cpu",
        type=_extra_cpu,
        default=0.0,
        help="make every request cost this fraction more CPU inside Django (0.3: 30%% more), to see the headroom",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--enforce-targets", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args(argv)


def _extra_cpu(text: str) -> float:
    try:
        fraction = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction") from None
    if not 0 <= fraction <= 10:
        raise argparse.ArgumentTypeError("give a fraction from 0 to 10")
    return fraction


def _busy_cores(text: str) -> float:
    try:
        cores = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of cores") from None
    available = os.cpu_count() or 1
    if not 0 <= cores < available:
        raise argparse.ArgumentTypeError(f"give 0 or more cores and fewer than the machine's {available}")
    return cores


def machine() -> dict:
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "memory": memory, "load_before": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"}


async def calibrate(
    stack: Stack, seconds: float, concurrency: int, rounds: int = CAPACITY_ROUNDS
) -> list[report.Capacity]:
    """The reference view and each student page GET, back to back: capacity and the ratio to the reference."""
    recorder = Recorder()
    lab = Lab(stack.base_url, stack.calibration_code, recorder)
    zero = Plan(0, 0, 0, 0, 0, 0)
    # One participant through the whole flow finds the stages; then one participant parked at each of them.
    scout = Student(0, zero, random.Random(0))
    await lab.take(scout)
    if not scout.finished:
        raise RuntimeError(f"calibration participant could not finish the lab: {scout.failure}")
    helpers = [Student(i, zero, random.Random(i), stop_at=stage) for i, stage in enumerate(scout.stages, 1)]
    await asyncio.gather(*(lab.take(s) for s in helpers))
    for helper in helpers:
        if not helper.finished:
            raise RuntimeError(f"calibration participant did not reach {helper.stop_at}: {helper.failure}")
    targets = [("reference", f"/bench/ref/?code={stack.calibration_code}", {})]
    targets.append(("join_page", f"/join/{stack.calibration_code}/", {}))
    targets += [(f"{h.stop_at}_page", h.path, h.cookies) for h in helpers]
    # Warm every worker (templates, connections) before anything is timed.
    for step, path, cookies in targets:
        await closed_loop(stack.base_url, step, path, cookies, concurrency, 0.3)
    # Each page is measured between two measurements of the reference (R P1 R P2 R ...), and its ratio is taken
    # against the mean of those two: a machine that gets busier or quieter moves both sides of a ratio alike.
    samples: dict[str, list] = {step: [] for step, _path, _cookies in targets}
    elapsed: dict[str, float] = dict.fromkeys(samples, 0.0)
    round_rps: dict[str, list[float]] = {step: [] for step in samples}
    bracket_rps: dict[str, list[float]] = {step: [] for step in samples}

    async def measure(step: str, path: str, cookies: dict) -> float:
        recorded, seconds_taken = await closed_loop(stack.base_url, step, path, cookies, concurrency, seconds)
        samples[step] += recorded.samples
        elapsed[step] += seconds_taken
        answered = sum(1 for s in recorded.samples if 0 < s.status < 400)
        rps = answered / seconds_taken if seconds_taken else 0.0
        round_rps[step].append(rps)
        return rps

    reference_target, pages = targets[0], targets[1:]
    for _round in range(rounds):
        before = await measure(*reference_target)
        for step, path, cookies in pages:
            await measure(step, path, cookies)  # its requests per second go to round_rps
            after = await measure(*reference_target)
            bracket_rps[step].append((before + after) / 2)
            before = after
    rows: list[report.Capacity] = []
    reference = None
    for step, _path, _cookies in targets:
        row = report.capacity(step, samples[step], elapsed[step], reference, round_rps[step], bracket_rps[step])
        reference = reference or row
        rows.append(row)
    return rows


async def _snapshot_at(recorder: Recorder, at: float, stack: Stack, postmaster: int | None):
    await recorder.sleep_until(at)
    return _snapshot(recorder, stack, postmaster)


def _snapshot(recorder: Recorder, stack: Stack, postmaster: int | None) -> cpu.CpuSnapshot:
    nginx = stack.nginx.process.pid if stack.nginx else None
    return cpu.snapshot(recorder.now(), stack.masters(), postmaster, nginx)


async def run_lab(
    stack: Stack, args: argparse.Namespace, log: fault_tools.FaultLog, postmaster: int | None
) -> tuple[Recorder, list[Student], dict]:
    rng = random.Random(args.seed)
    plans = class_plans(args.students, args.join_window, args.submit_window, rng, gap=args.gap)
    students = [Student(i, plan, random.Random(args.seed * 1_000_003 + i)) for i, plan in enumerate(plans)]
    recorder = Recorder()
    drop_hook = None
    if "client-drop" in args.fault:
        drop_hook = fault_tools.ClientDrops(stack.port, args.drop_fraction, args.seed, tls=bool(stack.proxy))
    lab = Lab(stack.base_url, stack.join_code, recorder, retry_for=args.retry_for, drop_hook=drop_hook)
    stop = asyncio.Event()
    probe = asyncio.create_task(probe_reference(stack.base_url, stack.join_code, recorder, stop, every=0.2))
    lag = asyncio.create_task(loop_lag(recorder, stop))
    before = _snapshot(recorder, stack, postmaster)
    # The cores at the end of the join window too: that window is where the machine runs out of them.
    submit_opens = args.join_window + args.gap
    middle = asyncio.create_task(_snapshot_at(recorder, submit_opens, stack, postmaster))
    server_faults = [f for f in args.fault if f != "client-drop"]
    injector = None
    if server_faults:
        at = args.fault_at if args.fault_at is not None else args.join_window + args.gap + args.submit_window * 0.4
        injector = asyncio.create_task(fault_tools.run_server_faults(stack, recorder, server_faults, at, log))
    try:
        await run_class(lab, students)
    finally:
        after = _snapshot(recorder, stack, postmaster)
        if not middle.done():
            middle.cancel()
        stop.set()
        await probe
        lags = await lag
        if injector is not None:
            await injector
    load = {
        "cores_used": cpu.shares(before, after),
        "cores_used_join_window": cpu.shares(before, middle.result())
        if middle.done() and not middle.cancelled()
        else {},
        "driver_loop_lag_ms": {
            "p50": round(report.percentile(lags, 50) * 1000, 1),
            "p95": round(report.percentile(lags, 95) * 1000, 1),
            "max": round(max(lags, default=0) * 1000, 1),
        },
    }
    return recorder, students, load


def fault_summary(recorder: Recorder, students: list[Student], log: fault_tools.FaultLog) -> dict:
    failed = [s for s in recorder.samples if s.status == 0 or s.status >= 400]
    kinds: dict[str, int] = {}
    for sample in failed:
        key = f"{sample.step}: {sample.error or sample.status}"
        kinds[key] = kinds.get(key, 0) + 1
    affected = [s for s in students if s.errors or s.drops]
    return {
        "events": [vars(e) for e in log.events],
        "failed_requests": len(failed),
        "retried_requests": sum(1 for s in recorder.samples if s.retry),
        "failed_by_kind": dict(sorted(kinds.items(), key=lambda kv: -kv[1])),
        "failed_between_s": [round(min(s.at for s in failed), 1), round(max(s.at for s in failed), 1)]
        if failed
        else None,
        "students_affected": len(affected),
        "affected_who_finished": sum(1 for s in affected if s.finished),
        "drops": sum(len(s.drops) for s in students),
        "drops_by_kind": _count(d for s in students for d in s.drops),
        "notices_shown": _count(n for s in students for n in s.notices),
        "finished_without_completion_code": sum(1 for s in students if s.finished and not s.completion_code),
    }


def _count(items) -> dict:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return dict(sorted(counts.items()))


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def completion_codes(secret_key: str):
    """The server's derivation of a participant's completion code, with the key the bench gave the server: no code
    is stored, so the checks derive what each student should have been shown. The driver's process has no settings
    of its own; this gives it the server's key."""
    from django.conf import settings

    settings.configure(SECRET_KEY=secret_key)
    from experiment.codes import completion_code_for

    return completion_code_for


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM (CI, a timeout) unwinds like Ctrl-C, so the stack's cleanup runs.
    signal.signal(signal.SIGTERM, _interrupt)
    if args.replicas > 1 and args.proxy != "nginx":
        print("--replicas above 1 needs --proxy nginx: nginx spreads the class over the instances", file=sys.stderr)
        return 2
    if "instance-kill" in args.fault and args.replicas < 2:
        print("--fault instance-kill needs --replicas 2 or more", file=sys.stderr)
        return 2
    server = Server(
        workers=args.workers, threads=args.threads, worker_class=args.worker_class, keep_alive=args.keep_alive
    )
    topology = server.describe()
    if args.proxy:
        topology = f"nginx (TLS) -> {args.replicas} x [{topology}], limits in Redis"
    results: dict = {
        "machine": machine(),
        "server": topology,
        "scenario": {
            "students": args.students,
            "join_window_s": args.join_window,
            "submit_window_s": args.submit_window,
            "gap_s": args.gap,
            "seed": args.seed,
            "faults": args.fault,
            "busy_cores": args.busy_cores,
            "extra_cpu": args.extra_cpu,
        },
    }
    busy_note = f"; other processes made to keep {args.busy_cores:g} cores busy" if args.busy_cores else ""
    if args.extra_cpu:
        # Read by bench/middleware.py in every gunicorn worker (the stack passes the environment on).
        os.environ["BENCH_EXTRA_CPU"] = str(args.extra_cpu)
        busy_note += f"; every request made to cost {args.extra_cpu:.0%} more CPU inside Django"
    print(f"machine: {results['machine']}; {results['server']}{busy_note}", flush=True)
    log = fault_tools.FaultLog()
    stack_options = {"replicas": args.replicas, "proxy": args.proxy or ""}
    with Stack(server=server, experiment=args.experiment, **stack_options) as stack, busy(args.busy_cores):
        limit_checks = []
        try:
            if args.calibrate_seconds > 0:
                concurrency = max(4, 2 * args.workers)
                rows = asyncio.run(calibrate(stack, args.calibrate_seconds, concurrency))
                results["capacity"] = [report.as_dict(r) for r in rows]
                print(
                    f"\nCapacity: GET back to back, {concurrency} clients, {CAPACITY_ROUNDS} rounds of "
                    f"{args.calibrate_seconds:g} s per page, each page between two of the reference"
                )
                print(report.capacity_table(rows), flush=True)
            if stack.scaled_out:
                join_limit = stack.setting("JOIN_GUESS_LIMIT_PER_ADDRESS")
                limit_checks, results["limits"] = asyncio.run(
                    check_limits(
                        stack.base_url,
                        stack.join_code,
                        stack.flood_code,
                        join_limit,
                        FLOOD_SESSION_LIMIT,
                        len(stack.instances),
                    )
                )
            with stack.connect() as conn:
                postmaster = cpu.postmaster_of(conn)
            started = time.monotonic()
            recorder, students, load = asyncio.run(run_lab(stack, args, log, postmaster))
            results["lab_seconds"] = round(time.monotonic() - started, 1)
            results["load"] = load
            with stack.connect() as conn:
                checks = run_checks(conn, stack.join_code, students, completion_codes(stack.env["SECRET_KEY"]))
        finally:
            if "pg-restart" in args.fault:
                fault_tools.ensure_pg_up(stack)
        results["gunicorn_pids"] = [pid for m in stack.masters() for pid in (m, *children_of(m))]
        results["nginx_pids"] = [stack.nginx.process.pid, *children_of(stack.nginx.process.pid)] if stack.nginx else []
        results["database"] = stack.db_name
        workers_after = stack.workers()
        log_tail = stack.gunicorn_log()
        results["experiment"] = stack.experiment.name if stack.experiment else None

    figures = report.step_figures(recorder.samples)
    flow = report.throughput(recorder.samples)
    slowest = report.slowest_seconds(recorder.samples)
    results["steps"] = [report.as_dict(f) for f in figures]
    results["throughput"] = report.as_dict(flow)
    results["slowest_seconds"] = [report.as_dict(second) for second in slowest]
    results["checks"] = [vars(c) for c in checks + limit_checks]
    results["errors"] = sum(f.errors for f in figures if f.step != "reference")
    results["unfinished"] = sum(1 for s in students if not s.finished)
    results["failed_by_kind"] = _count(
        f"{s.step}: {s.error}" for s in recorder.samples if s.status == 0 or s.status >= 400
    )
    results["server_log"] = [
        line for line in log_tail.splitlines() if "ERROR" in line or "WORKER TIMEOUT" in line or "Error" in line
    ][-10:]
    if args.fault:
        results["faults"] = fault_summary(recorder, students, log)
        results["faults"]["workers_after"] = len(workers_after)
        for event in log.events:
            if event.fault == "instance-kill":
                results["faults"]["instance_kill"] = fault_tools.instance_kill_effect(recorder.samples, event)

    print(
        f"\nLab: {args.students} students, join within {args.join_window:.0f} s, submit within "
        f"{args.submit_window:.0f} s; {results['lab_seconds']} s"
    )
    print(report.steps_table(figures))
    print(
        f"\nLoad: cores used on average {load['cores_used']}; in the join window "
        f"{load.get('cores_used_join_window')}; driver event-loop lag (ms) {load['driver_loop_lag_ms']}"
    )
    if results["failed_by_kind"]:
        print(f"Failed requests by kind: {results['failed_by_kind']}")
        print("gunicorn log:\n  " + "\n  ".join(results["server_log"]))
    print(
        f"Throughput: {flow.requests} requests in {flow.seconds:.1f} s, mean {flow.mean_rps:.1f} req/s, "
        f"peak {flow.peak_rps_1s:.0f} req/s (1 s) / {flow.peak_rps_10s:.1f} req/s (10 s)"
    )
    print("Slowest seconds (p95 of the requests sent in them):")
    print("\n".join(report.seconds_lines(slowest)))
    print("\nChecks:")
    for c in checks + limit_checks:
        print(f"  [{'ok' if c.ok else 'FAIL'}] {c.name}: {c.detail}")
    if args.fault:
        print("\nFaults:")
        print(json.dumps(results["faults"], indent=2))

    lab_steps = [f for f in figures if f.step != "reference"]
    slow = [f.step for f in lab_steps if not f.p95_ms < report.P95_TARGET_MS]
    capacity_rows = results.get("capacity", [])
    behind = [
        r["step"]
        for r in capacity_rows
        if r["step"].endswith("_page") and r["speed_vs_reference"] < report.SPEED_TARGET
    ]
    targets = {
        "0 errors": results["errors"] == 0,
        "0 lost or doubled": all(c.ok for c in checks),
        f"p95 < {report.P95_TARGET_MS:.0f} ms per step": not slow,
        f"pages >= {report.SPEED_TARGET} x reference speed": bool(capacity_rows) and not behind,
    }
    if limit_checks:
        targets["limits hold across instances"] = all(c.ok for c in limit_checks)
    results["targets"] = targets
    print("\nTargets:")
    for name, met in targets.items():
        extra = ""
        if name.startswith("p95") and slow:
            extra = f" (over: {', '.join(slow)})"
        if name.startswith("pages") and behind:
            extra = f" (behind: {', '.join(behind)})"
        print(f"  [{'met' if met else 'MISSED'}] {name}{extra}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    intact = all(c.ok for c in checks + limit_checks)
    if not intact:
        return 1
    if args.enforce_targets and not all(targets.values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
