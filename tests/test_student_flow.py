"""A student's way through the lab: each stage, the back button, double submits, resume."""

import uuid

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from experiment.models import Answer, Choice, LabSession, Participant, SessionStatus, Stage, UsefulnessRating
from experiment.services import participation
from tests.helpers import consent_post, threat_answers, url, usefulness_answers

pytestmark = pytest.mark.django_db


def finish(client: Client, participant: Participant) -> None:
    assert client.post(url("training", participant)).status_code == 302
    assert client.post(url("threats", participant), threat_answers(participant)).status_code == 302
    assert client.post(url("usefulness", participant), usefulness_answers(participant)).status_code == 302


def test_the_start_page_offers_join_and_resume(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Session code" in response.content
    assert b"Participant code" in response.content


def test_joining_with_a_code_leads_to_the_consent_page(client, lab):
    response = client.post(reverse("experiment:join"), {"code": f" {lab.join_code.lower()[:4]}-{lab.join_code[4:]} "})
    assert response.status_code == 302
    assert response["Location"] == reverse("experiment:consent", args=[lab.join_code])


def test_an_unknown_code_is_refused_with_a_message(client, lab):
    response = client.post(reverse("experiment:join"), {"code": "QQQQQQQQ"})
    assert response.status_code == 400
    assert b"No lab session has the code QQQQQQQQ" in response.content
    assert Participant.objects.count() == 0


def test_an_empty_code_is_refused_with_a_message(client, lab):
    response = client.post(reverse("experiment:join"), {"code": ""})
    assert response.status_code == 400
    assert b"This field is required" in response.content


def test_the_join_link_of_an_unknown_session_is_404(client, lab):
    assert client.get(reverse("experiment:consent", args=["NOPENOPE"])).status_code == 404


def test_consent_creates_a_participant_assigned_to_an_arm(client, lab):
    participant = consent_post(client, lab.join_code)
    assert participant.session == lab
    assert participant.stage == Stage.TRAINING
    assert participant.arm.experiment == lab.experiment
    assert participant.block.session == lab
    assert sorted(participant.threat_order) == sorted(lab.experiment.scenario.threats.values_list("id", flat=True))
    assert participant.consented_at is not None


def test_declining_keeps_nothing_but_a_count(client, lab):
    page = client.get(reverse("experiment:consent", args=[lab.join_code]))
    token = page.context["form"]["entry_token"].value()
    response = client.post(
        reverse("experiment:consent", args=[lab.join_code]), {"entry_token": token, "decision": "decline"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("experiment:declined")
    assert Participant.objects.count() == 0
    lab.refresh_from_db()
    assert lab.declined_count == 1
    assert b"Nothing about you has been kept" in client.get(response["Location"]).content


def test_a_repeated_consent_post_makes_one_participant(client, lab):
    page = client.get(reverse("experiment:consent", args=[lab.join_code]))
    token = page.context["form"]["entry_token"].value()
    data = {"entry_token": token, "decision": "consent", "statement_take_part": "on"}
    first = client.post(reverse("experiment:consent", args=[lab.join_code]), data)
    second = Client().post(reverse("experiment:consent", args=[lab.join_code]), data)
    assert first["Location"] == second["Location"]
    assert Participant.objects.count() == 1


def test_a_tampered_consent_token_is_refused(client, lab):
    response = client.post(
        reverse("experiment:consent", args=[lab.join_code]),
        {"entry_token": "not-a-uuid", "decision": "consent"},
    )
    assert response.status_code == 400
    assert b"The form was altered" in response.content
    assert Participant.objects.count() == 0


def test_a_consent_post_without_a_decision_is_refused(client, lab):
    page = client.get(reverse("experiment:consent", args=[lab.join_code]))
    token = page.context["form"]["entry_token"].value()
    response = client.post(reverse("experiment:consent", args=[lab.join_code]), {"entry_token": token})
    assert response.status_code == 400
    assert b"Choose whether you agree to take part" in response.content
    assert Participant.objects.count() == 0


@pytest.mark.parametrize("status", ["draft", "closed"])
def test_a_session_that_is_not_open_turns_students_away(client, lab, status):
    lab.status = status
    lab.save()
    page = client.get(reverse("experiment:consent", args=[lab.join_code]))
    assert page.status_code == 403
    message = b"has not started yet" if status == "draft" else b"is closed"
    assert message in page.content
    response = client.post(
        reverse("experiment:consent", args=[lab.join_code]),
        {"entry_token": "5b2f1f0e-8f1a-4c33-9a53-1f1d3f0f3a11", "decision": "consent"},
    )
    assert response.status_code == 403
    assert Participant.objects.count() == 0


def test_a_full_session_turns_students_away(client, lab, make_participant):
    lab.capacity = 1
    lab.save()
    make_participant()
    page = client.get(reverse("experiment:consent", args=[lab.join_code]))
    assert page.status_code == 403
    assert b"This lab session is full" in page.content


def test_a_session_past_its_closing_time_turns_students_away(client, lab):
    from datetime import timedelta

    from django.utils import timezone

    LabSession.objects.filter(pk=lab.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    assert client.get(reverse("experiment:consent", args=[lab.join_code])).status_code == 403


def test_training_shows_the_material_and_the_arms_diagrams(client, lab):
    participant = consent_post(client, lab.join_code)
    response = client.get(url("training", participant))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Spoofing" in content and "Authentication" in content
    assert "The system" in content
    assert "Sequence diagram" in content
    assert ("Data flow diagram" in content) == (participant.arm.slug == "dfd")
    assert str(participant.code) in content


def test_the_whole_lab_in_each_arm(lab):
    arms_seen = set()
    while arms_seen != {"dfd", "control"}:
        client = Client()
        participant = consent_post(client, lab.join_code)
        finish(client, participant)
        participant.refresh_from_db()
        assert participant.stage == Stage.DONE
        assert participant.answers.count() == 4
        assert participant.ratings.count() == (7 if participant.arm.slug == "dfd" else 6)
        assert participant.comment == "Clear material."
        assert participant.completed_at >= participant.usefulness_started_at >= participant.threats_started_at
        assert b"Your answers are stored" in client.get(url("done", participant)).content
        arms_seen.add(participant.arm.slug)


def test_answers_store_the_position_each_threat_was_shown(client, lab):
    participant = consent_post(client, lab.join_code)
    client.post(url("training", participant))
    client.post(url("threats", participant), threat_answers(participant, Choice.NOT_APPLICABLE))
    stored = list(participant.answers.order_by("position").values_list("threat_id", "position", "choice"))
    assert stored == [(tid, i, "not_applicable") for i, tid in enumerate(participant.threat_order, 1)]


def test_the_threats_page_lists_threats_by_title_in_the_stored_order_without_the_key(client, lab):
    participant = consent_post(client, lab.join_code)
    client.post(url("training", participant))
    content = client.get(url("threats", participant)).content.decode()
    threats = [participant.session.experiment.scenario.threats.get(pk=i) for i in participant.threat_order]
    headings = [f"{number}. {threat.title}</h2>" for number, threat in enumerate(threats, start=1)]
    assert [content.index(heading) for heading in headings] == sorted(content.index(h) for h in headings)
    # The fixture's descriptions name their threat's reference; nothing else on the page does.
    for threat in threats:
        assert threat.ref not in content.replace(threat.description, ""), "reference IDs are for researchers"
    assert "SECRET-RATIONALE" not in content
    assert "is_real" not in content


def test_every_stage_url_leads_to_the_current_stage(client, lab):
    participant = consent_post(client, lab.join_code)
    for name in ("threats", "usefulness", "done"):
        response = client.get(url(name, participant))
        assert response.status_code == 302
        assert response["Location"] == url("training", participant)
    assert client.get(url("participant", participant))["Location"] == url("training", participant)


def test_the_back_button_after_submitting_answers_leads_forward(client, lab):
    participant = consent_post(client, lab.join_code)
    client.post(url("training", participant))
    client.post(url("threats", participant), threat_answers(participant))
    for name in ("training", "threats"):
        response = client.get(url(name, participant))
        assert response["Location"] == url("usefulness", participant)


def test_a_second_submit_of_the_answers_changes_nothing(client, lab):
    participant = consent_post(client, lab.join_code)
    client.post(url("training", participant))
    client.post(url("threats", participant), threat_answers(participant, Choice.APPLICABLE))
    before = list(Answer.objects.filter(participant=participant).values_list("threat_id", "choice", "answered_at"))
    response = client.post(url("threats", participant), threat_answers(participant, Choice.NOT_APPLICABLE))
    assert response.status_code == 302
    assert response["Location"] == url("usefulness", participant)
    after = list(Answer.objects.filter(participant=participant).values_list("threat_id", "choice", "answered_at"))
    assert after == before


def test_the_answers_service_refuses_a_second_submission(lab, make_participant):
    participant = make_participant()
    participation.start_threats(participant)
    answers = [
        participation.ThreatAnswer(tid, i, Choice.APPLICABLE) for i, tid in enumerate(participant.threat_order, 1)
    ]
    assert participation.submit_answers(participant, answers) is True
    assert participation.submit_answers(participant, answers) is False
    assert Answer.objects.filter(participant=participant).count() == len(answers)


def test_a_second_submit_of_the_ratings_changes_nothing(client, lab):
    participant = consent_post(client, lab.join_code)
    finish(client, participant)
    response = client.post(url("usefulness", participant), usefulness_answers(participant, value=1))
    assert response["Location"] == url("done", participant)
    assert set(UsefulnessRating.objects.filter(participant=participant).values_list("value", flat=True)) == {4}


def test_a_second_start_of_the_task_changes_nothing(client, lab):
    participant = consent_post(client, lab.join_code)
    client.post(url("training", participant))
    participant.refresh_from_db()
    started = participant.threats_started_at
    response = client.post(url("training", participant))
    assert response["Location"] == url("threats", participant)
    participant.refresh_from_db()
    assert participant.threats_started_at == started


def test_the_same_browser_continues_at_its_stage_from_the_join_link(client, lab):
    participant = consent_post(client, lab.join_code)
    client.post(url("training", participant))
    asked = client.get(reverse("experiment:consent", args=[lab.join_code]))
    assert asked.status_code == 200 and asked.context["remembered"] == participant
    response = client.post(reverse("experiment:returning", args=[lab.join_code]), {"choice": "continue"})
    assert response["Location"] == url("threats", participant)
    assert Participant.objects.count() == 1


@pytest.mark.parametrize("typed", ["short", "uuid"])
def test_the_participant_code_resumes_on_another_device(client, lab, typed):
    participant = consent_post(client, lab.join_code)
    client.post(url("training", participant))
    other = Client()
    code = participant.resume_code if typed == "short" else str(participant.code)
    response = other.post(reverse("experiment:resume"), {"participant_code": code})
    assert response["Location"] == url("threats", participant)
    assert other.get(reverse("experiment:consent", args=[lab.join_code])).context["remembered"] == participant


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("not-a-code", b"That is not a participant code"),
        ("5b2f1f0e-8f1a-4c33-9a53-1f1d3f0f3a11", b"No participant has this code"),
    ],
)
def test_a_bad_participant_code_does_not_resume(client, lab, code, message):
    response = client.post(reverse("experiment:resume"), {"participant_code": code})
    assert response.status_code == 400
    assert message in response.content


def test_an_unknown_participant_url_is_404(client, lab):
    assert client.get("/p/5b2f1f0e-8f1a-4c33-9a53-1f1d3f0f3a11/training/").status_code == 404


@pytest.mark.parametrize("name", ["training", "threats", "usefulness", "done"])
def test_stage_pages_refuse_other_methods(client, lab, name):
    participant = consent_post(client, lab.join_code)
    assert client.put(url(name, participant)).status_code == 405
    assert client.delete(url(name, participant)).status_code == 405


def test_pages_that_only_read_refuse_a_post(client, lab):
    assert client.post("/").status_code == 405
    assert client.get(reverse("experiment:join")).status_code == 405
    assert client.get(reverse("experiment:resume")).status_code == 405


def test_error_pages_tell_the_student_their_answers_are_safe(client, lab):
    from django.template.loader import render_to_string

    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert b"Your answers that were already submitted are safe" in response.content
    for name in ("500.html", "400.html", "403_csrf.html"):
        assert "participant code on the start page" in render_to_string(name)
    browser = Client(enforce_csrf_checks=True)
    stale = browser.post(reverse("experiment:join"), {"code": lab.join_code})
    assert stale.status_code == 403 and b"The page had expired" in stale.content


def test_the_completion_code_shows_again_on_another_device(client, lab):
    from experiment.services import sessions

    participant = consent_post(client, lab.join_code)
    finish(client, participant)
    first = client.get(url("done", participant)).context["completion_code"]
    other = Client()
    other.post(reverse("experiment:resume"), {"participant_code": participant.resume_code})
    assert other.get(url("done", participant)).context["completion_code"] == first
    assert sessions.issued_codes(lab) == [first]
    second = consent_post(Client(), lab.join_code)
    assert Client().get(url("participant", second)).status_code == 302
    from experiment.codes import completion_code_for

    assert completion_code_for(str(second.code)) != first


def test_joining_writes_no_session_row(client, lab):
    # The browser keeps its participant in a signed cookie: a class joining at once writes no session table rows.
    participant = consent_post(client, lab.join_code)
    assert Session.objects.count() == 0
    assert client.get(reverse("experiment:consent", args=[lab.join_code])).context["remembered"] == participant


def test_an_altered_participant_cookie_is_ignored(client, lab):
    participant = consent_post(client, lab.join_code)
    name = f"threatlab_participant_{lab.pk}"
    client.cookies[name] = client.cookies[name].value.replace(str(participant.code)[:8], "00000000")
    response = client.get(reverse("experiment:consent", args=[lab.join_code]))
    assert response.status_code == 200, "the consent page again, not somebody else's stage"


def test_a_consent_form_posted_again_returns_its_participant_even_after_the_session_closed(lab):
    token = participation.enrol(lab, uuid.uuid4()).entry_token
    first = Participant.objects.get(entry_token=token)
    LabSession.objects.filter(pk=lab.pk).update(status=SessionStatus.CLOSED)
    lab.refresh_from_db()

    assert participation.enrol(lab, token).pk == first.pk
    assert Participant.objects.count() == 1
    with pytest.raises(participation.AdmissionRefused):
        participation.enrol(lab, uuid.uuid4())
