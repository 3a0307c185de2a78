"""The CPU each student page costs in process: every page requested through Django's test client, with nothing else
in the way (no server, no network, no other requests), next to the reference view measured in the same rounds.

    .venv/bin/python bench/pages.py                  # 2,000 requests per page and round, 5 rounds
    .venv/bin/python bench/pages.py --requests 500 --rounds 3
    .venv/bin/python bench/pages.py --calls          # Python function calls per request instead of CPU time

It builds an SQLite database in a temporary folder with the settings the bench serves (bench.settings: DEBUG off,
every middleware), loads the Kubernetes experiment, walks one participant to each stage through the pages
themselves, then times GETs of each page with the process's CPU clock. It prints the median per page over the
rounds, with the lowest and highest round, and the median of its ratio to the reference in the same round: a figure
to compare two versions of the code on one machine. Two rows are no page: ``lookup`` looks the participant up as
every student page does, ``layout`` also renders base.html around an empty page (bench/views.py), the floor of a
student page in standard Django.

With --calls it counts the Python function calls of each request instead (cProfile): a figure that does not move
with the machine's speed or load, so two versions compare even on a busy machine.
"""

import argparse
import cProfile
import os
import pstats
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from experiment import student_pages  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per page and round (default 2000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; pages alternate within each (default 5)")
    parser.add_argument("--experiment", type=Path, default=REPO / "fixtures" / "kubernetes-pod-dfd.json")
    parser.add_argument("--calls", action="store_true", help="count function calls per request instead of CPU")
    return parser.parse_args()


def configure(folder: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": f"sqlite:///{folder / 'pages.sqlite3'}",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "testserver",
            "BENCH_STATIC_ROOT": str(folder / "static"),
        }
    )
    import django

    django.setup()


def walk(client, join_code: str, stop_at: str) -> str:
    """One participant through the pages until the URL of ``stop_at`` (a stage's name); returns that URL."""
    from experiment.models import Participant

    rng = random.Random(0)
    url = f"/join/{join_code}/"
    stage = student_pages.CONSENT
    while stage != stop_at:
        page = student_pages.read_page(client.get(url, secure=True).content.decode())
        if stage == "training":
            # The minimum reading time counts from the assignment: move it back rather than wait.
            Participant.objects.filter(code=url.split("/")[2]).update(assigned_at="2000-01-01T00:00:00Z")
        response = client.post(url, student_pages.fill(stage, page.form, rng, text="fine"), secure=True)
        if response.status_code != 302:
            raise RuntimeError(f"{url} did not take the answers: {response.status_code}")
        url = response.url
        stage = student_pages.participant_path(url).stage
    return url


def cpu_ms(client, url: str, requests: int) -> float:
    started = time.process_time()
    for _ in range(requests):
        response = client.get(url, secure=True)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code}")
    return (time.process_time() - started) / requests * 1000


def calls_per_request(client, url: str, requests: int) -> float:
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(requests):
        client.get(url, secure=True)
    profile.disable()
    return pstats.Stats(profile).total_calls / requests


def main() -> None:
    args = parse_args()
    folder = Path(tempfile.mkdtemp(prefix="threatlab-pages-"))
    configure(folder)
    from django.core.management import call_command
    from django.test import Client

    from experiment.models import Experiment, LabSession, SessionStatus

    quiet = open(os.devnull, "w")  # noqa: SIM115
    call_command("migrate", "--noinput", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0, stdout=quiet)
    call_command("load_experiment", str(args.experiment), stdout=quiet)
    experiment = Experiment.objects.get()
    session = LabSession.objects.create(experiment=experiment, join_code="PAGES234", status=SessionStatus.OPEN)

    walked = {}
    for stage in ("entry", "training", "threats", "usefulness", "exit", "done"):
        client = Client()
        walked[stage] = (client, walk(client, session.join_code, stage))
    # The floor under every student page (bench/views.py): the participant's lookup alone, then base.html around it.
    code = student_pages.participant_path(walked["done"][1]).code
    pages = {
        "reference": (Client(), f"/bench/ref/?code={session.join_code}"),
        "lookup": (Client(), f"/bench/lookup/{code}/"),
        "layout": (Client(), f"/bench/layout/{code}/"),
        "join": (Client(), "/join/PAGES234/"),
        **walked,
    }

    if args.calls:
        print("Python function calls per request (cProfile), warm")
        for name, (client, url) in pages.items():
            cpu_ms(client, url, 20)
            print(f"  {name:<11} {calls_per_request(client, url, 100):.0f}")
        return
    results: dict[str, list[float]] = {name: [] for name in pages}
    for _round in range(args.rounds):
        for name, (client, url) in pages.items():
            cpu_ms(client, url, max(args.requests // 10, 1))  # warm: templates compiled, blocks cached
            results[name].append(cpu_ms(client, url, args.requests))
    print(f"CPU per request in process, ms: median of {args.rounds} rounds of {args.requests} (lowest-highest)")
    print("and per round as a multiple of the reference view's CPU in that round, median")
    for name, figures in results.items():
        ratio = statistics.median(f / r for f, r in zip(figures, results["reference"], strict=True))
        print(f"  {name:<11} {statistics.median(figures):.3f}  ({min(figures):.3f}-{max(figures):.3f})  x{ratio:.2f}")


if __name__ == "__main__":
    main()
