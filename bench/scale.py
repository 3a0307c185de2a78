"""The researcher side at scale: the analysis of 100,000 participants and the streamed CSV of 1,000,000 answers.

    .venv/bin/python bench/scale.py                    # 100,000 participants x 10 threats = 1,000,000 answers
    .venv/bin/python bench/scale.py --participants 10000

Creates a fresh database (as bench/run.py does), fills one session with completed participants through the ORM
(``bulk_create``, so every model default applies), then times each task in a fresh Python process and reads that
process's peak resident memory: the import baseline (Django, numpy, scipy) is reported apart from the peak.
The database is dropped afterwards.

The analysis is timed on 1,000 and 10,000 participants (sessions of their own) and on all of them.
"""

import argparse
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import PYTHON, REPO, Stack  # noqa: E402

ANALYSIS_TARGET_S = 3.0
EXPORT_MEMORY_TARGET_MB = 200.0


def _rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _django() -> None:
    import django

    django.setup()


def fill(participants: int, join_code: str, seed: int) -> dict:
    """Completed participants in the session, alternating arms in blocks of two, answers with a DFD effect."""
    _django()
    from django.db import transaction
    from django.utils import timezone

    from experiment.models import (
        AllocationBlock,
        Answer,
        Choice,
        LabSession,
        Participant,
        Stage,
        UsefulnessRating,
    )
    from experiment.sources import sources_for
    from threats.models import DiagramKind

    rng = random.Random(f"{seed}-{join_code}")
    session = LabSession.objects.select_related("experiment__scenario").get(join_code=join_code)
    experiment = session.experiment
    arms = list(experiment.arms.order_by("position"))
    threats = list(experiment.scenario.threats.order_by("position"))
    sources = {arm.pk: [s.key for s in sources_for(arm.shown_diagrams())] for arm in arms}
    sees_dfd = {arm.pk: any(d.kind == DiagramKind.DFD for d in arm.shown_diagrams()) for arm in arms}
    start = timezone.now() - timedelta(days=1)
    chunk = 2000
    started = time.monotonic()
    for first in range(0, participants, chunk):
        size = min(chunk, participants - first)
        with transaction.atomic():
            blocks = AllocationBlock.objects.bulk_create(
                AllocationBlock(session=session, number=first // len(arms) + b + 1, arm_sequence=[a.pk for a in arms])
                for b in range((size + len(arms) - 1) // len(arms))
            )
            people = []
            for i in range(size):
                block = blocks[i // len(arms)]
                arm = arms[i % len(arms)]
                at = start + timedelta(seconds=first + i)
                order = [t.pk for t in threats]
                rng.shuffle(order)
                people.append(
                    Participant(
                        entry_token=_uuid(rng),
                        code=_uuid(rng),
                        session=session,
                        arm=arm,
                        block=block,
                        block_position=i % len(arms),
                        stage=Stage.DONE,
                        threat_order=order,
                        consented_at=at,
                        threats_started_at=at + timedelta(minutes=20),
                        usefulness_started_at=at + timedelta(minutes=35),
                        completed_at=at + timedelta(minutes=38),
                        last_activity_at=at + timedelta(minutes=38),
                        comment="=formula-looking comment" if i % 97 == 0 else "",
                    )
                )
            people = Participant.objects.bulk_create(people)
            answers, ratings = [], []
            for person in people:
                p_right = 0.85 if sees_dfd[person.arm_id] else 0.6
                truth = {t.pk: t.is_real for t in threats}
                for position, threat_id in enumerate(person.threat_order, 1):
                    right = rng.random() < p_right
                    marked = truth[threat_id] if right else not truth[threat_id]
                    choice = Choice.APPLICABLE if marked else Choice.NOT_APPLICABLE
                    answers.append(Answer(participant=person, threat_id=threat_id, position=position, choice=choice))
                ratings += [
                    UsefulnessRating(participant=person, source=key, value=rng.randint(1, 5))
                    for key in sources[person.arm_id]
                ]
            Answer.objects.bulk_create(answers, batch_size=5000)
            UsefulnessRating.objects.bulk_create(ratings, batch_size=5000)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "participants": Participant.objects.filter(session=session).count(),
        "answers": Answer.objects.filter(participant__session=session).count(),
        "ratings": UsefulnessRating.objects.filter(participant__session=session).count(),
        "fill_seconds": round(time.monotonic() - started, 1),
    }


def _uuid(rng: random.Random):
    import uuid

    return uuid.UUID(int=rng.getrandbits(128), version=4)


def measure(task: str, join_codes: str) -> dict:
    """One task in this (fresh) process: wall time and peak memory, with the baseline after imports."""
    _django()
    from analysis import dataset, exports, report
    from analysis.dataset import Filters
    from experiment.models import LabSession

    sessions = list(LabSession.objects.select_related("experiment").filter(join_code__in=join_codes.split(",")))
    experiment = sessions[0].experiment
    # What a researcher exports or analyses: the chosen sessions, nobody else left out.
    filters = Filters(session_ids=tuple(s.pk for s in sessions), include_incomplete=True)
    if task.startswith("analysis"):
        # The analysis imports statsmodels on first use (the exports never do): a worker pays that once, not per
        # analysis, so it is part of the baseline here.
        import statsmodels.api  # noqa: F401
    baseline = _rss_mb()
    started = time.monotonic()
    if task.startswith("analysis"):
        results = report.build(dataset.load(experiment, filters))
        outcome = {"n": results["n"]}
    elif task in ("answers.csv", "participants.csv"):
        rows = exports.answer_rows if task == "answers.csv" else exports.participant_rows
        lines = size = 0
        with open(os.devnull, "w", encoding="utf-8") as sink:
            for line in exports.csv_lines(rows(experiment, filters)):
                sink.write(line)
                lines += 1
                size += len(line)
        outcome = {"data_rows": lines - 1, "megabytes": round(size / 1e6, 1)}
    else:
        raise ValueError(f"unknown task {task!r}")
    return {
        "task": task,
        "seconds": round(time.monotonic() - started, 2),
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(_rss_mb(), 1),
        "growth_mb": round(_rss_mb() - baseline, 1),
        **outcome,
    }


def _child(stack: Stack, *args: str) -> dict:
    result = subprocess.run(
        [PYTHON, __file__, *args], cwd=REPO, env=stack.env, capture_output=True, text=True, timeout=1800
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--experiment", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--_fill", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--_measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._fill:
        print(json.dumps(fill(int(args._fill[0]), args._fill[1], args.seed)))
        return 0
    if args._measure:
        print(json.dumps(measure(*args._measure)))
        return 0

    # SIGTERM unwinds like Ctrl-C, so the database is dropped.
    signal.signal(signal.SIGTERM, _interrupt)
    results: dict = {}
    small, medium = min(1_000, args.participants), min(9_000, max(0, args.participants - 1_000))
    rest = args.participants - small - medium
    with Stack(serve=False, experiment=args.experiment) as stack:
        results["experiment"] = stack.experiment.name if stack.experiment else None
        # Three sessions, so the analysis can be timed on 1,000 and 10,000 participants and the export on all.
        codes = [stack._session("scale-1k"), stack._session("scale-9k"), stack.join_code]
        results["data"] = []
        for code, size in zip(codes, (small, medium, rest), strict=True):
            if size:
                print(f"filling {size} participants into {code} ...", flush=True)
                results["data"].append(_child(stack, "--_fill", str(size), code))
                print(f"  {results['data'][-1]}", flush=True)
        tasks = [("analysis 1k", codes[:1]), ("analysis 10k", codes[:2]), ("analysis all", codes)]
        tasks += [("answers.csv", codes), ("participants.csv", codes)]
        results["tasks"] = []
        for task, chosen in tasks:
            figures = _child(stack, "--_measure", task, ",".join(chosen))
            results["tasks"].append(figures)
            print(f"  {figures}", flush=True)
    analysis = [t for t in results["tasks"] if t["task"].startswith("analysis")][-1]
    answers = next(t for t in results["tasks"] if t["task"] == "answers.csv")
    targets = {
        f"{analysis['task']} ({analysis['n']} participants) under {ANALYSIS_TARGET_S:.0f} s": analysis["seconds"]
        < ANALYSIS_TARGET_S,
        f"answers.csv peak memory under {EXPORT_MEMORY_TARGET_MB:.0f} MB": answers["peak_rss_mb"]
        < EXPORT_MEMORY_TARGET_MB,
    }
    results["targets"] = targets
    print("\n| task | rows | seconds | peak RSS MB | baseline MB | growth MB |\n|---|---:|---:|---:|---:|---:|")
    for t in results["tasks"]:
        rows = t.get("data_rows", t.get("n"))
        memory = f"{t['peak_rss_mb']} | {t['baseline_rss_mb']} | {t['growth_mb']}"
        print(f"| {t['task']} | {rows} | {t['seconds']} | {memory} |")
    for name, met in targets.items():
        print(f"  [{'met' if met else 'MISSED'}] {name}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
