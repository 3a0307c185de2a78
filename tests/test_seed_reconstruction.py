"""A reconstruction of the original study's data reproduces its slides through the whole analysis.

The slides (shared/seed: "Preliminary Results - Metric 1") give per outcome the two groups' means, the smaller U
and a p value, from 29 students with the DFD (group A) and 24 without (group B). tests/fixtures/seed_reconstruction.csv
is one data set with those figures, found by tests/fixtures/make_seed_reconstruction.py (TP as tests/test_stats.py
constructs it; FP searched for). Here it goes into the database as answers and through the analysis: the summary
gives the slides' means (within 0.01: the slides print FN's control mean as 2.16 where 5 - 2.8333 = 2.1667), the
smaller U exactly, and the slides' p to two decimals as the direction-free p without continuity correction.
"""

import csv
import json
import random
import uuid
from pathlib import Path

import pytest

from analysis import dataset, report
from experiment import definition
from experiment.models import Answer, Choice, Participant, Stage
from experiment.services import participation, sessions

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
SEED = Path(__file__).parent / "fixtures" / "seed_reconstruction.csv"
# outcome: (mean DFD, mean control, smaller U, p) as the slides print them.
SLIDES = {
    "tp": (3.17, 2.83, 277.5, 0.09),
    "fn": (1.83, 2.16, 277.5, 0.09),
    "fp": (1.93, 2.08, 331.0, 0.37),
    "precision": (0.64, 0.60, 300.5, 0.19),
    "recall": (0.63, 0.57, 277.5, 0.09),
}


def seed_rows() -> list[tuple[str, int, int]]:
    with SEED.open(newline="") as handle:
        return [(row["arm"], int(row["tp"]), int(row["fp"])) for row in csv.DictReader(handle)]


@pytest.fixture
def seed_results():
    data = json.loads((ROOT / "fixtures" / "kubernetes-pod-dfd.json").read_text())
    # No entry questionnaire: every student is assigned at once and then moved to the arm of the reconstruction.
    del data["experiment"]["questionnaires"], data["experiment"]["stratify"]
    experiment = definition.load(definition.validate(data, base_dir=ROOT / "fixtures"))
    session = sessions.create_session(experiment, open_now=True)
    arms = {arm.name: arm for arm in experiment.arms.all()}
    threats = list(experiment.scenario.threats.order_by("position"))
    real = [t for t in threats if t.is_real]
    fake = [t for t in threats if not t.is_real]
    rng = random.Random(1)
    answers = []
    for arm, tp, fp in seed_rows():
        student = participation.enrol(session, uuid.uuid4(), rng=rng)
        Participant.objects.filter(pk=student.pk).update(arm=arms[arm], stage=Stage.DONE)
        marked = set(real[:tp]) | set(fake[:fp])
        answers += [
            Answer(
                participant=student,
                threat=threat,
                position=i,
                choice=Choice.APPLICABLE if threat in marked else Choice.NOT_APPLICABLE,
            )
            for i, threat in enumerate(threats, start=1)
        ]
    Answer.objects.bulk_create(answers)
    return report.build(dataset.load(experiment))


def test_the_reconstruction_has_29_and_24_students():
    rows = seed_rows()
    assert sum(arm == "DFD" for arm, _tp, _fp in rows) == 29
    assert sum(arm == "Control" for arm, _tp, _fp in rows) == 24


def test_the_summary_reproduces_the_slides_means_u_and_p(seed_results):
    assert [arm["n"] for arm in seed_results["arms"]] == [29, 24]
    metrics = {m["key"]: m for m in seed_results["metrics"]}
    for key, (mean_dfd, mean_control, u, p) in SLIDES.items():
        dfd, control = metrics[key]["per_arm"]
        assert dfd["mean"] == pytest.approx(mean_dfd, abs=0.01), key
        assert control["mean"] == pytest.approx(mean_control, abs=0.01), key
        assert metrics[key]["slides"]["u"] == u, key
        assert round(metrics[key]["slides_uncorrected"]["p"], 2) == p, key
