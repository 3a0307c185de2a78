"""The analysis and exports of the full design: questionnaires, strata, exposure, fast participants, confidence,
the CONSORT flow."""

import csv
import io
import json
import uuid
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import F

from analysis import dataset, exports, report
from experiment.models import Experiment, Participant
from experiment.rehearsal import simulate
from experiment.services import participation, sessions

pytestmark = pytest.mark.django_db
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "kubernetes-pod-dfd.json"


@pytest.fixture
def full_lab(db):
    call_command("load_experiment", str(FIXTURE), stdout=StringIO())
    experiment = Experiment.objects.get(slug="kubernetes-pod-dfd")
    Experiment.objects.filter(pk=experiment.pk).update(ask_confidence=True)
    experiment.refresh_from_db()
    session = sessions.create_session(experiment, open_now=True)
    simulate(session, 12, profile="diagram_helps", seed=7)
    # Bots answer in milliseconds; give them a human pace so that "implausibly fast" means something here.
    Participant.objects.update(
        is_simulated=False, usefulness_started_at=F("threats_started_at") + timedelta(seconds=120)
    )
    return session


def rows_of(lines) -> list[dict]:
    return list(csv.DictReader(io.StringIO("".join(exports.csv_lines(lines)))))


def test_participants_csv_carries_questionnaires_exposure_and_confidence(full_lab):
    experiment = full_lab.experiment
    first = Participant.objects.order_by("id").first()
    Participant.objects.filter(pk=first.pk).update(exposure={"training": {"page": 200.5, "diagram_dfd": 42.0}})
    rows = rows_of(exports.participant_rows(experiment, dataset.Filters()))
    assert len(rows) == 12
    row = rows[0]
    assert row["entry_k8s_experience"] in {"none", "lectures", "course", "professional"}
    assert row["entry_diagram_familiarity_sequence"] in {"1", "2", "3", "4", "5"}
    assert row["exit_confidence"] in {"0-20%", "21-40%", "41-60%", "61-80%", "81-100%"}
    assert row["exposure_training_page"] == "200.5" and row["exposure_training_diagram_dfd"] == "42.0"
    assert 1 <= float(row["mean_confidence"]) <= 5
    assert row["stratum"] in {"novice", "experienced"}
    assert row["assigned_at"] and row["exit_started_at"]
    answers = rows_of(exports.answer_rows(experiment, dataset.Filters()))
    assert {a["confidence"] for a in answers} <= {"1", "2", "3", "4", "5"}


def test_the_codebook_names_every_column_with_the_questionnaire_options(full_lab):
    experiment = full_lab.experiment
    book = exports.codebook(experiment)
    header = next(iter(exports.participant_rows(experiment, dataset.Filters())))
    for column in header:
        assert f"| `{column}` |" in book, column
    assert "professional = Professional use for more than 3 months" in book
    assert "0-20%" in book


def test_implausibly_fast_participants_are_flagged_and_can_be_left_out(full_lab):
    experiment = full_lab.experiment
    fast = Participant.objects.order_by("id").first()
    Participant.objects.filter(pk=fast.pk).update(usefulness_started_at=fast.threats_started_at + timedelta(seconds=20))
    rows = {r["participant_code"]: r for r in rows_of(exports.participant_rows(experiment, dataset.Filters()))}
    assert rows[str(fast.code)]["implausibly_fast"] == "true"
    kept = report.build(dataset.load(experiment))
    left_out = report.build(dataset.load(experiment, dataset.Filters(exclude_fast=True)))
    assert kept["n"] == 12 and left_out["n"] == 11
    assert left_out["excluded"]["implausibly_fast"] == 1
    assert sum(a["implausibly_fast"] for a in kept["consort"]["arms"]) == 1


def test_the_consort_flow_counts_every_participant_once(full_lab):
    participation.record_declined(full_lab)
    participation.enrol(full_lab, uuid.uuid4())  # waits at the entry questionnaire
    results = report.build(dataset.load(full_lab.experiment))
    flow = results["consort"]
    assert flow["declined"] == 1 and flow["consented"] == 13 and flow["joined"] == 14
    assert flow["awaiting_assignment"] == 1
    assert sum(a["assigned"] for a in flow["arms"]) == 12
    assert sum(a["completed"] for a in flow["arms"]) == 12
    consort_csv = rows_of(exports.consort_rows(full_lab.experiment, dataset.Filters()))
    assert [r["arm"] for r in consort_csv] == ["DFD", "Control", "(awaiting assignment)", "(declined consent)"]
    assert sum(int(r["analysed"]) for r in consort_csv[:2]) == results["n"]


def test_the_analysis_can_split_by_stratum(full_lab):
    experiment = full_lab.experiment
    strata = dataset.strata_of(experiment)
    assert strata == ["experienced", "novice"]
    sizes = [report.build(dataset.load(experiment, dataset.Filters(stratum=s)))["n"] for s in strata]
    assert sum(sizes) == 12
    novices = dataset.load(experiment, dataset.Filters(stratum="novice")).participants
    assert set(Participant.objects.filter(pk__in=novices.ids.tolist()).values_list("stratum", flat=True)) == {"novice"}


def test_confidence_is_a_metric_when_asked(full_lab):
    results = report.build(dataset.load(full_lab.experiment))
    confidence = next(m for m in results["metrics"] if m["key"] == "mean_confidence")
    assert confidence["test"]["apa"].startswith("Mann-Whitney U =")


def test_analyze_accepts_the_new_filters(full_lab, capsys):
    call_command(
        "analyze", "--session", full_lab.join_code, "--exclude-fast", "--stratum", "novice", "--format", "json"
    )
    results = json.loads(capsys.readouterr().out)
    assert results["filters"]["stratum"] == "novice" and results["filters"]["exclude_fast"] is True


def test_two_of_three_arms_can_be_compared_with_mann_whitney(capsys):
    from django.core.management import CommandError

    call_command(
        "load_experiment",
        str(FIXTURE.parent / "kubernetes-pod-three-arms.json"),
        stdout=StringIO(),
    )
    experiment = Experiment.objects.get(slug="kubernetes-pod-three-arms")
    session = sessions.create_session(experiment, open_now=True)
    simulate(session, 9, profile="random", seed=4)
    call_command("analyze", "--experiment", experiment.slug, "--include-simulated", "--format", "json")
    everyone = json.loads(capsys.readouterr().out)
    assert "kruskal" in everyone["metrics"][0]
    call_command(
        "analyze",
        "--experiment",
        experiment.slug,
        "--include-simulated",
        "--arm",
        "text-only",
        "--arm",
        "dfd",
        "--format",
        "json",
    )
    two = json.loads(capsys.readouterr().out)
    assert [arm["slug"] for arm in two["arms"]] == ["text-only", "dfd"]
    assert two["metrics"][0]["test"]["apa"].startswith("Mann-Whitney U =")
    assert two["n"] == sum(a["n"] for a in everyone["arms"] if a["slug"] in ("text-only", "dfd"))
    with pytest.raises(CommandError, match="No arm nope"):
        call_command("analyze", "--experiment", experiment.slug, "--arm", "nope")
