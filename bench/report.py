"""Figures from the samples: percentiles per step, throughput, and ratios to the reference view."""

import math
import statistics
from collections import Counter
from dataclasses import asdict, dataclass

from bench.driver import Sample

# The order steps happen in a student's lab, for the tables.
STEPS = [
    "join_page",
    "consent_submit",
    "entry_page",
    "entry_submit",
    "training_page",
    "diagram",
    "training_submit",
    "threats_page",
    "threats_submit",
    "usefulness_page",
    "usefulness_submit",
    "exit_page",
    "exit_submit",
    "done_page",
    "reopen",
    "reference",
]
P95_TARGET_MS = 250.0
SPEED_TARGET = 0.5


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))]


@dataclass(frozen=True)
class StepFigures:
    step: str
    count: int
    errors: int  # requests that got no response or an error status
    retried: int  # requests sent again after an error (a person's reload): each also in ``count``
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    server_p50_ms: float
    server_p95_ms: float
    cpu_mean_ms: float  # CPU inside Django, the mean: what the step costs the machine's throughput
    db_p50_ms: float
    queries_min: int | None
    queries_max: int | None
    p50_vs_reference: float  # this step's p50 over the reference's p50 in the same run (1 = as fast)


def step_figures(samples: list[Sample], reference_p50_ms: float | None = None) -> list[StepFigures]:
    by_step: dict[str, list[Sample]] = {}
    for sample in samples:
        by_step.setdefault(sample.step, []).append(sample)
    if reference_p50_ms is None:
        reference_p50_ms = percentile([s.latency * 1000 for s in by_step.get("reference", []) if s.status == 200], 50)
    figures = []
    for step in sorted(by_step, key=lambda s: STEPS.index(s) if s in STEPS else len(STEPS)):
        group = by_step[step]
        ok = [s for s in group if 0 < s.status < 400]
        latencies = [s.latency * 1000 for s in ok]
        server = [s.server_us / 1000 for s in ok if s.server_us is not None]
        cpu = [s.cpu_us / 1000 for s in ok if s.cpu_us is not None]
        queries = [s.queries for s in ok if s.queries is not None]
        p50 = percentile(latencies, 50)
        figures.append(
            StepFigures(
                step=step,
                count=len(group),
                errors=len(group) - len(ok),
                retried=sum(1 for s in group if s.retry),
                p50_ms=p50,
                p95_ms=percentile(latencies, 95),
                p99_ms=percentile(latencies, 99),
                max_ms=max(latencies) if latencies else math.nan,
                server_p50_ms=percentile(server, 50),
                server_p95_ms=percentile(server, 95),
                cpu_mean_ms=sum(cpu) / len(cpu) if cpu else math.nan,
                db_p50_ms=percentile([s.db_us / 1000 for s in ok if s.db_us is not None], 50),
                queries_min=min(queries) if queries else None,
                queries_max=max(queries) if queries else None,
                p50_vs_reference=p50 / reference_p50_ms if reference_p50_ms else math.nan,
            )
        )
    return figures


@dataclass(frozen=True)
class Throughput:
    requests: int
    seconds: float
    mean_rps: float
    peak_rps_1s: float
    peak_rps_10s: float


def throughput(samples: list[Sample], exclude: tuple[str, ...] = ("reference",)) -> Throughput:
    counted = [s for s in samples if s.step not in exclude]
    if not counted:
        return Throughput(0, 0.0, 0.0, 0.0, 0.0)
    start = min(s.at for s in counted)
    ends = [s.at + s.latency - start for s in counted]
    seconds = max(ends)
    bins: dict[int, int] = {}
    for end in ends:
        bins[int(end)] = bins.get(int(end), 0) + 1
    windows = [sum(bins.get(b + k, 0) for k in range(10)) / 10 for b in range(int(seconds) + 1)]
    return Throughput(
        requests=len(counted),
        seconds=seconds,
        mean_rps=len(counted) / seconds if seconds else 0.0,
        peak_rps_1s=max(bins.values()),
        peak_rps_10s=max(windows) if windows else 0.0,
    )


@dataclass(frozen=True)
class Second:
    """The requests a run sent in one second of it: how many, how slow, what they cost inside Django."""

    start: int  # seconds since the run started
    requests: int
    p95_ms: float
    django_cores: float  # CPU inside Django over this second, in cores (2 = both cores of this machine)
    steps: tuple[tuple[str, int], ...]  # the steps sent in it, most first


def slowest_seconds(samples: list[Sample], top: int = 3, exclude: tuple[str, ...] = ("reference",)) -> list[Second]:
    """The ``top`` seconds whose requests had the highest p95, slowest first: where a run ran out of cores.

    A request counts in the second it was sent. A p95 per step over a whole run says that a step was slow, not
    when; a run that misses its target misses it in a few seconds, and what the class sent in them says why.
    """
    by_second: dict[int, list[Sample]] = {}
    for sample in samples:
        if sample.step not in exclude:
            by_second.setdefault(int(sample.at), []).append(sample)
    seconds = []
    for start, group in by_second.items():
        counts = Counter(sample.step for sample in group)
        seconds.append(
            Second(
                start=start,
                requests=len(group),
                p95_ms=percentile([s.latency * 1000 for s in group], 95),
                django_cores=sum(s.cpu_us or 0 for s in group) / 1e6,
                steps=tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0]))),
            )
        )
    seconds.sort(key=lambda second: (-second.p95_ms, second.start))
    return seconds[:top]


def seconds_lines(seconds: list[Second], steps_shown: int = 4) -> list[str]:
    return [
        f"  {s.start}-{s.start + 1} s: {s.requests} requests, p95 {_fmt(s.p95_ms)} ms, "
        f"{_fmt(s.django_cores, 2)} cores inside Django; "
        + ", ".join(f"{step} {count}" for step, count in s.steps[:steps_shown])
        for s in seconds
    ]


@dataclass(frozen=True)
class Capacity:
    """A page requested back to back by several clients: what the server can do, and its ratio to the reference."""

    step: str
    rps: float
    p50_ms: float
    server_p50_ms: float
    queries: int | None
    errors: int
    # This page's requests per second over the reference's (1 = as fast): the median of the rounds' ratios, each
    # round's page against the mean of the reference measured just before and just after it, so a machine that
    # gets busier or quieter moves both sides of a ratio alike.
    speed_vs_reference: float
    ratio_low: float  # the lowest and highest of the rounds' ratios: how much the machine moved them
    ratio_high: float
    server_time_ratio: float  # reference's server time over this page's (1 = as fast)
    round_rps: tuple[float, ...] = ()


def capacity(
    step: str,
    samples: list[Sample],
    seconds: float,
    reference: "Capacity | None",
    round_rps: list[float],
    bracket_rps: list[float],
) -> Capacity:
    """``round_rps``: this page's requests per second in each round; ``bracket_rps``: the reference's around it
    (the mean of the measurements just before and just after). ``reference`` is None for the reference itself."""
    ok = [s for s in samples if 0 < s.status < 400]
    server = percentile([s.server_us / 1000 for s in ok if s.server_us is not None], 50)
    rps = len(ok) / seconds if seconds else 0.0
    queries = [s.queries for s in ok if s.queries is not None]
    ratios = (
        [page / ref for page, ref in zip(round_rps, bracket_rps, strict=True) if ref]
        if reference
        else [1.0] * len(round_rps)
    )
    return Capacity(
        step=step,
        rps=rps,
        p50_ms=percentile([s.latency * 1000 for s in ok], 50),
        server_p50_ms=server,
        queries=max(queries) if queries else None,
        errors=len(samples) - len(ok),
        speed_vs_reference=statistics.median(ratios) if ratios else math.nan,
        ratio_low=min(ratios, default=math.nan),
        ratio_high=max(ratios, default=math.nan),
        server_time_ratio=reference.server_p50_ms / server if reference and server else 1.0,
        round_rps=tuple(round_rps),
    )


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def capacity_table(rows: list[Capacity]) -> str:
    lines = [
        "| page (GET, back to back) | req/s | vs reference (rounds) | p50 ms | server p50 ms | server time ratio "
        "| queries |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        spread = f" ({_fmt(r.ratio_low, 2)}-{_fmt(r.ratio_high, 2)})" if r.ratio_low != r.ratio_high else ""
        lines.append(
            f"| {r.step} | {_fmt(r.rps, 0)} | {_fmt(r.speed_vs_reference, 2)}{spread} | {_fmt(r.p50_ms)} | "
            f"{_fmt(r.server_p50_ms)} | {_fmt(r.server_time_ratio, 2)} | {'-' if r.queries is None else r.queries} |"
        )
    return "\n".join(lines)


def steps_table(rows: list[StepFigures]) -> str:
    lines = [
        "| step | requests | errors | retried | p50 ms | p95 ms | p99 ms | max ms | server p50/p95 ms "
        "| server CPU ms | SQL p50 ms | queries | p50 / ref p50 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        queries = (
            "-"
            if r.queries_min is None
            else (str(r.queries_min) if r.queries_min == r.queries_max else f"{r.queries_min}-{r.queries_max}")
        )
        lines.append(
            f"| {r.step} | {r.count} | {r.errors} | {r.retried} | {_fmt(r.p50_ms)} | {_fmt(r.p95_ms)} | "
            f"{_fmt(r.p99_ms)} | {_fmt(r.max_ms)} | {_fmt(r.server_p50_ms)}/{_fmt(r.server_p95_ms)} | "
            f"{_fmt(r.cpu_mean_ms, 2)} | {_fmt(r.db_p50_ms)} | {queries} | "
            f"{_fmt(r.p50_vs_reference, 2)} |"
        )
    return "\n".join(lines)


def as_dict(obj) -> dict:
    data = asdict(obj)
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in data.items()}
