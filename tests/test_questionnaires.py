"""Entry and exit questionnaires, stratified assignment, exposure, minimum reading time, confidence."""

import json
import shutil
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from experiment.models import Answer, Experiment, ItemResponse, Participant, Stage
from experiment.rehearsal import simulate
from experiment.services import sessions
from tests.helpers import (
    REPLICATION_ENTRY,
    REPLICATION_FILE,
    consent_post,
    threat_answers,
    url,
    usefulness_answers,
)

pytestmark = pytest.mark.django_db
FIXTURE = REPLICATION_FILE
ENTRY = REPLICATION_ENTRY
EXIT = {
    "familiarity__k8s_architecture": "4",
    "familiarity__stride": "5",
    "difficulty": "hard",
    "confidence": "61-80%",
    "clarity__task_clear": "5",
    "clarity__enough_time": "4",
    "clarity__training_prepared": "3",
    "missing_material": "",
    "comments": "=1+1 fun",
}


@pytest.fixture
def replication_lab(db):
    call_command("load_experiment", str(FIXTURE), stdout=StringIO())
    return sessions.create_session(Experiment.objects.get(slug="kubernetes-pod-dfd"), open_now=True)


def test_the_entry_questionnaire_comes_before_assignment(client, replication_lab):
    participant = consent_post(client, replication_lab.join_code)
    assert participant.stage == Stage.ENTRY
    assert participant.arm is None and participant.block is None
    assert client.get(url("training", participant))["Location"] == url("entry", participant)
    page = client.get(url("entry", participant))
    assert b"How much experience do you have with Kubernetes?" in page.content
    response = client.post(url("entry", participant), ENTRY)
    assert response["Location"] == url("training", participant)
    participant.refresh_from_db()
    assert participant.arm is not None and participant.stratum == "experienced"
    assert participant.assigned_at >= participant.consented_at
    stored = set(ItemResponse.objects.filter(participant=participant).values_list("item__key", "row", "value"))
    assert ("k8s_experience", "", "course") in stored
    assert ("diagram_familiarity", "deployment", "2") in stored
    assert len(stored) == 5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"k8s_experience": ""}, b"Choose an answer for: How much experience do you have with Kubernetes?"),
        ({"k8s_experience": "guru"}, b"Choose an answer for: How much experience do you have with Kubernetes?"),
        ({"diagram_familiarity__component": "9"}, b"Choose an answer for: Component diagrams"),
    ],
)
def test_a_bad_entry_answer_is_refused_and_nothing_is_stored(client, replication_lab, change, message):
    participant = consent_post(client, replication_lab.join_code)
    response = client.post(url("entry", participant), {**ENTRY, **change})
    assert response.status_code == 400
    assert message in response.content
    participant.refresh_from_db()
    assert participant.stage == Stage.ENTRY and participant.arm is None
    assert ItemResponse.objects.count() == 0


def test_a_second_entry_submit_changes_nothing(client, replication_lab):
    participant = consent_post(client, replication_lab.join_code)
    client.post(url("entry", participant), ENTRY)
    participant.refresh_from_db()
    arm, block = participant.arm_id, participant.block_id
    response = client.post(url("entry", participant), {**ENTRY, "k8s_experience": "none"})
    assert response["Location"] == url("training", participant)
    participant.refresh_from_db()
    assert (participant.arm_id, participant.block_id, participant.stratum) == (arm, block, "experienced")
    assert ItemResponse.objects.filter(participant=participant, item__key="k8s_experience").get().value == "course"


def test_the_exit_questionnaire_ends_the_lab_with_a_completion_code(client, replication_lab):
    participant = consent_post(client, replication_lab.join_code)
    client.post(url("entry", participant), ENTRY)
    client.post(url("training", participant))
    participant.refresh_from_db()
    client.post(url("threats", participant), threat_answers(participant))
    response = client.post(url("usefulness", participant), usefulness_answers(participant))
    assert response["Location"] == url("exit", participant)
    assert b"completion-code" not in client.get(url("exit", participant)).content
    response = client.post(url("exit", participant), EXIT)
    assert response["Location"] == url("done", participant)
    participant.refresh_from_db()
    assert participant.stage == Stage.DONE and participant.exit_started_at and participant.completed_at
    assert b'id="completion-code"' in client.get(url("done", participant)).content
    assert ItemResponse.objects.filter(participant=participant, item__questionnaire__placement="exit").count() == 8


def test_a_missing_exit_answer_is_refused(client, replication_lab):
    participant = consent_post(client, replication_lab.join_code)
    client.post(url("entry", participant), ENTRY)
    client.post(url("training", participant))
    participant.refresh_from_db()
    client.post(url("threats", participant), threat_answers(participant))
    client.post(url("usefulness", participant), usefulness_answers(participant))
    response = client.post(url("exit", participant), {**EXIT, "difficulty": ""})
    assert response.status_code == 400
    assert b"Choose an answer for: How difficult was the task?" in response.content
    participant.refresh_from_db()
    assert participant.stage == Stage.EXIT


def test_stratified_blocks_are_balanced_within_each_stratum(replication_lab):
    simulate(replication_lab, 40, profile="random", seed=21)
    participants = Participant.objects.filter(session=replication_lab)
    assert set(participants.values_list("stratum", flat=True)) == {"novice", "experienced"}
    for block in replication_lab.blocks.all():
        members = list(block.participants.values_list("stratum", "arm_id"))
        assert {stratum for stratum, _ in members} == {block.stratum}
        if len(members) == block.size:
            assert len(set(Counter(arm for _, arm in members).values())) == 1


def test_an_unstratified_experiment_assigns_at_consent(client, lab):
    participant = consent_post(client, lab.join_code)
    assert participant.stage == Stage.TRAINING and participant.arm is not None and participant.stratum == ""


def test_exposure_seconds_are_stored_with_the_training(client, lab):
    participant = consent_post(client, lab.join_code)
    exposure = {"page": 312.44, "diagram_dfd": 80}
    client.post(url("training", participant), {"exposure": json.dumps(exposure)})
    participant.refresh_from_db()
    assert participant.exposure == {"training": {"page": 312.4, "diagram_dfd": 80.0}}


@pytest.mark.parametrize(
    "exposure",
    [
        "not json",
        "[1, 2]",
        '{"page": -1}',
        '{"page": "long"}',
        '{"Bad Key!": 1}',
        '{"page": 1e9}',
        json.dumps({f"k{i}": 1 for i in range(21)}),
    ],
)
def test_tampered_exposure_is_refused_and_changes_nothing(client, lab, exposure):
    participant = consent_post(client, lab.join_code)
    response = client.post(url("training", participant), {"exposure": exposure})
    assert response.status_code == 400
    assert b"The form was altered" in response.content
    participant.refresh_from_db()
    assert participant.stage == Stage.TRAINING and participant.exposure == {}


def test_the_task_opens_only_after_the_minimum_reading_time(client, lab):
    Experiment.objects.filter(pk=lab.experiment_id).update(min_training_seconds=300)
    participant = consent_post(client, lab.join_code)
    response = client.post(url("training", participant))
    assert response.status_code == 400
    assert b"Please keep reading: the task opens in 5 min 00 s" in response.content or b"4 min 59 s" in response.content
    participant.refresh_from_db()
    assert participant.stage == Stage.TRAINING
    Participant.objects.filter(pk=participant.pk).update(assigned_at=participant.assigned_at - timedelta(seconds=301))
    assert client.post(url("training", participant))["Location"] == url("threats", participant)


def test_confidence_is_asked_and_stored_when_the_experiment_turns_it_on(client, lab):
    Experiment.objects.filter(pk=lab.experiment_id).update(ask_confidence=True)
    participant = consent_post(client, lab.join_code)
    client.post(url("training", participant))
    participant.refresh_from_db()
    assert b"How sure are you about" in client.get(url("threats", participant)).content
    data = threat_answers(participant)
    response = client.post(url("threats", participant), data)
    assert response.status_code == 400 and b"Rate how sure you are about" in response.content
    assert Answer.objects.count() == 0
    for threat_id in participant.threat_order:
        data[f"confidence_{threat_id}"] = "4"
    data[f"confidence_{participant.threat_order[0]}"] = "6"
    assert client.post(url("threats", participant), data).status_code == 400
    data[f"confidence_{participant.threat_order[0]}"] = "2"
    assert client.post(url("threats", participant), data).status_code == 302
    assert sorted(Answer.objects.values_list("confidence", flat=True)) == [2, 4, 4, 4]


def test_a_confidence_for_a_foreign_threat_is_refused(client, lab):
    participant = consent_post(client, lab.join_code)
    client.post(url("training", participant))
    participant.refresh_from_db()
    data = threat_answers(participant)
    data["confidence_999999"] = "3"
    response = client.post(url("threats", participant), data)
    assert response.status_code == 400 and b"not in your list" in response.content
    assert Answer.objects.count() == 0


def test_bots_take_a_lab_with_questionnaires_and_confidence(replication_lab):
    Experiment.objects.filter(pk=replication_lab.experiment_id).update(ask_confidence=True)
    results = simulate(replication_lab, 4, profile="perfect", seed=5)
    assert all(r.completion_code for r in results)
    assert Participant.objects.filter(stage=Stage.DONE).count() == 4
    assert not Answer.objects.filter(confidence__isnull=True).exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e["stratify"].update(item="nope"), 'experiment.stratify.item: no item "nope" in the entry'),
        (lambda e: e["stratify"].update(item="diagram_familiarity"), "must be a single_choice or percentage_bands"),
        (lambda e: e["stratify"]["strata"].update(guru="x"), 'experiment.stratify.strata: "guru" is not an option'),
        (lambda e: e["questionnaires"][0]["items"][0].update(kind="slider"), '"slider" is not one of'),
        (lambda e: e["questionnaires"][0]["items"][0].update(key="Bad Key"), "use lower-case letters"),
        (lambda e: e["questionnaires"][1].update(placement="entry"), '"entry" appears more than once'),
        (lambda e: e.update(min_training_seconds=-5), "min_training_seconds: must be 0 to 2147483647, got -5"),
        (lambda e: e.update(ask_confidence="yes"), "ask_confidence: expected true or false"),
    ],
)
def test_bad_questionnaire_definitions_are_reported_with_their_place(tmp_path, change, message):
    data = json.loads(FIXTURE.read_text())
    change(data["experiment"])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    shutil.copytree(FIXTURE.parent / "kubernetes-pod", tmp_path / "kubernetes-pod")
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("load_experiment", str(path))
    assert not Experiment.objects.exists()


def test_the_replication_round_trips_with_its_questionnaires(tmp_path, capsys):
    call_command("load_experiment", str(FIXTURE))
    capsys.readouterr()
    call_command("dump_experiment", "kubernetes-pod-dfd")
    first = capsys.readouterr().out
    (tmp_path / "again.json").write_text(first)
    Experiment.objects.all().delete()
    call_command("load_experiment", str(tmp_path / "again.json"))
    capsys.readouterr()
    call_command("dump_experiment", "kubernetes-pod-dfd")
    assert capsys.readouterr().out == first
    assert json.loads(first)["experiment"]["stratify"]["item"] == "k8s_experience"


def test_a_declined_student_in_a_questionnaire_lab_leaves_nothing(replication_lab):
    client = Client()
    page = client.get(f"/join/{replication_lab.join_code}/")
    token = page.context["form"]["entry_token"].value()
    client.post(f"/join/{replication_lab.join_code}/", {"entry_token": token, "decision": "decline"})
    assert Participant.objects.count() == 0
