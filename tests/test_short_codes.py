"""Short participant codes: 11 characters from the join codes' alphabet, shown 4-4-3, unique, typed to resume (with or
without dashes, any case) and limited like join codes; the UUID stays the key in addresses and still resumes."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from experiment.codes import (
    JOIN_CODE_ALPHABET,
    PARTICIPANT_CODE_LENGTH,
    completion_code_for,
    grouped,
    new_participant_code,
    participant_code_or_none,
)
from experiment.models import Participant, Stage
from experiment.services import participation
from tests.helpers import consent_post, url


def test_a_code_holds_at_least_50_bits_from_the_unambiguous_alphabet():
    code = new_participant_code()
    assert len(code) == PARTICIPANT_CODE_LENGTH == 11
    assert set(code) <= set(JOIN_CODE_ALPHABET)
    assert len(JOIN_CODE_ALPHABET) ** PARTICIPANT_CODE_LENGTH >= 2**50


def test_a_code_is_shown_in_groups_and_read_back_with_or_without_dashes_in_any_case():
    assert grouped("7KQMX3PDRW9") == "7KQM-X3PD-RW9"
    for typed in ("7KQM-X3PD-RW9", "7kqm-x3pd-rw9", " 7kqmx3pdrw9 ", "7KQM X3PD RW9"):
        assert participant_code_or_none(typed) == "7KQMX3PDRW9", typed
    for typed in ("7KQM-X3PD-RW", "7KQM-X3PD-RW90", "0KQM-X3PD-RW9", "", "7KQM-X3PD-RW\x00"):
        assert participant_code_or_none(typed) is None, typed


@pytest.mark.django_db
def test_enrolling_gives_each_participant_a_code_of_its_own(make_participant):
    codes = {make_participant().short_code for _ in range(20)}
    assert len(codes) == 20
    assert all(participant_code_or_none(code) == code for code in codes)


@pytest.mark.django_db
def test_the_database_refuses_two_participants_with_one_code(make_participant):
    first, second = make_participant(), make_participant()
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.filter(pk=second.pk).update(short_code=first.short_code)


@pytest.mark.django_db
def test_enrolling_draws_again_when_the_code_is_taken(make_participant, lab, monkeypatch):
    first = make_participant()
    drawn = iter([first.short_code, "ACDEFGHJKMN"])
    monkeypatch.setattr("experiment.codes.new_participant_code", lambda: next(drawn))
    second = participation.enrol(lab, uuid.uuid4())
    assert second.short_code == "ACDEFGHJKMN"
    assert Participant.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("shape", ["grouped", "bare lower case", "spaced"])
def test_the_start_page_resumes_with_the_short_code(client, lab, shape):
    participant = consent_post(client, lab.join_code)
    typed = {
        "grouped": participant.resume_code,
        "bare lower case": participant.short_code.lower(),
        "spaced": f"  {participant.resume_code.replace('-', ' ')} ",
    }[shape]
    response = Client().post(reverse("experiment:resume"), {"participant_code": typed})
    assert response.status_code == 302
    assert response["Location"] == url("training", participant)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_start_page_still_resumes_with_the_uuid(client, lab):
    participant = consent_post(client, lab.join_code)
    response = Client().post(reverse("experiment:resume"), {"participant_code": str(participant.code).upper()})
    assert response["Location"] == url("training", participant)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", b"This field is required"),
        ("7KQM-X3PD", b"That is not a participant code"),
        ("7KQM-X3PD-RW9\x00", b"Null characters are not allowed"),
        ("x" * 61, b"at most 60 characters"),
        ("AAAA-AAAA-AAA", b"No participant has this code"),
    ],
)
def test_a_wrong_participant_code_is_refused_with_a_message(client, lab, make_participant, typed, message):
    participant = make_participant()
    response = client.post(reverse("experiment:resume"), {"participant_code": typed})
    assert response.status_code == 400
    assert message in response.content
    assert not any(name.startswith("threatlab_participant_") for name in response.cookies)
    participant.refresh_from_db()
    assert participant.stage == Stage.TRAINING


@pytest.mark.django_db
def test_guessing_participant_codes_is_limited_and_a_right_code_still_resumes(client, lab, make_participant, settings):
    settings.RESUME_GUESS_LIMIT_PER_ADDRESS = 3
    participant = make_participant()
    for _ in range(3):
        assert client.post(reverse("experiment:resume"), {"participant_code": "AAAA-AAAA-AAA"}).status_code == 400
    blocked = client.post(reverse("experiment:resume"), {"participant_code": "AAAA-AAAA-AAA"})
    assert blocked.status_code == 429
    assert b"Too many wrong participant codes" in blocked.content
    # A right code never counts and is never refused, not even from the blocked address.
    for _ in range(5):
        response = client.post(reverse("experiment:resume"), {"participant_code": participant.resume_code})
        assert response.status_code == 302


@pytest.mark.django_db
def test_every_page_shows_the_short_code_for_resuming(client, lab):
    participant = consent_post(client, lab.join_code)
    html = client.get(url("training", participant)).content.decode()
    assert f'<code class="participant-code" id="participant-code">{participant.resume_code}</code>' in html
    assert "data-copy=" in html


BEFORE = ("experiment", "0013_existing_experiments_analysis_plan")
AFTER = ("experiment", "0014_participant_short_code_for_resuming")


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_participants_unique_codes_and_keeps_their_completion_codes():
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    try:
        old = executor.loader.project_state([BEFORE]).apps
        scenario = old.get_model("threats", "Scenario").objects.create(slug="s", title="S", task_html="")
        experiment = old.get_model("experiment", "Experiment").objects.create(
            slug="e", title="E", participant_title="E", scenario=scenario
        )
        session = old.get_model("experiment", "LabSession").objects.create(experiment=experiment, join_code="ACDE3479")
        made = old.get_model("experiment", "Participant").objects.bulk_create(
            old.get_model("experiment", "Participant")(
                entry_token=uuid.uuid4(), session=session, stage="entry", threat_order=[]
            )
            for _ in range(30)
        )
        completion_before = {str(p.code): completion_code_for(str(p.code)) for p in made}

        executor = MigrationExecutor(connection)
        executor.migrate([AFTER])

        codes = dict(Participant.objects.values_list("code", "short_code"))
        assert len(codes) == 30 and len(set(codes.values())) == 30
        assert all(participant_code_or_none(code) == code for code in codes.values())
        assert {str(code): completion_code_for(str(code)) for code in codes} == completion_before
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
