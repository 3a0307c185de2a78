"""A lab PC shared by students one after another: a finished participant is not handed to the next student, an
unfinished one is only continued when asked, the thank-you page found in the history shows nothing until the short
code is typed, and no participant page is stored by the browser or a proxy."""

import time

import pytest
from django.contrib.sessions.models import Session
from django.core import signing
from django.test import Client
from django.urls import reverse

from experiment import views
from experiment.models import Participant, Stage
from experiment.urls import participant_urls
from tests.helpers import consent_post, threat_answers, url, usefulness_answers

pytestmark = pytest.mark.django_db


def finish(client: Client, participant: Participant):
    client.post(url("training", participant))
    client.post(url("threats", participant), threat_answers(participant))
    return client.post(url("usefulness", participant), usefulness_answers(participant))


def join_link(lab) -> str:
    return reverse("experiment:consent", args=[lab.join_code])


def test_after_the_thank_you_page_the_join_link_starts_a_new_participant(client, lab):
    first = consent_post(client, lab.join_code)
    finish(client, first)
    assert client.get(url("done", first)).context["completion_code"]

    page = client.get(join_link(lab))
    assert page.status_code == 200 and "entry_token" in page.context["form"].fields
    second = consent_post(client, lab.join_code)
    assert second != first and Participant.objects.count() == 2
    assert client.get(url("training", second)).status_code == 200


def test_a_browser_holding_an_unfinished_participant_is_asked_before_anything_else(client, lab):
    participant = consent_post(client, lab.join_code)
    page = client.get(join_link(lab))
    html = page.content.decode()
    assert page.status_code == 200
    assert f"Continue as participant {participant.resume_code}, or start as a new student?" in html
    assert 'name="choice" value="continue"' in html and 'name="choice" value="new"' in html
    assert "no-store" in page["Cache-Control"]


def test_starting_as_a_new_student_forgets_the_earlier_participant(client, lab):
    earlier = consent_post(client, lab.join_code)
    response = client.post(reverse("experiment:returning", args=[lab.join_code]), {"choice": "new"})
    assert response.status_code == 302 and response["Location"] == join_link(lab)
    assert response.cookies[f"threatlab_participant_{lab.pk}"].value == ""

    page = client.get(join_link(lab))
    assert "entry_token" in page.context["form"].fields
    assert "data-new-student" in page.content.decode(), "the consent page clears the tab's unsent answers"
    newer = consent_post(client, lab.join_code)
    assert newer != earlier
    earlier.refresh_from_db()
    assert earlier.stage == Stage.TRAINING, "the earlier participant is left as it was"


def test_continuing_leads_to_the_participants_stage(client, lab):
    participant = consent_post(client, lab.join_code)
    response = client.post(reverse("experiment:returning", args=[lab.join_code]), {"choice": "continue"})
    assert response["Location"] == url("training", participant)


@pytest.mark.parametrize("choice", ["", "both", "\x00"])
def test_a_bad_answer_to_continue_or_start_anew_is_refused_with_a_message(client, lab, choice):
    participant = consent_post(client, lab.join_code)
    response = client.post(reverse("experiment:returning", args=[lab.join_code]), {"choice": choice})
    assert response.status_code == 400
    assert b"Choose whether to continue or to start as a new student." in response.content
    assert f"threatlab_participant_{lab.pk}" not in response.cookies
    assert Participant.objects.get() == participant


def test_continue_or_start_anew_takes_only_a_post_for_a_known_session(client, lab):
    consent_post(client, lab.join_code)
    assert client.get(reverse("experiment:returning", args=[lab.join_code])).status_code == 405
    assert client.post(reverse("experiment:returning", args=["NOPENOPE"]), {"choice": "new"}).status_code == 404
    # A browser that holds nobody is simply sent to the consent page.
    response = Client().post(reverse("experiment:returning", args=[lab.join_code]), {"choice": "continue"})
    assert response["Location"] == join_link(lab)


def test_the_finished_participants_page_from_the_address_alone_shows_nothing_personal(client, lab):
    participant = consent_post(client, lab.join_code)
    finish(client, participant)
    page = Client().get(url("done", participant))
    html = page.content.decode()
    assert page.status_code == 200
    assert "completion_code" not in page.context and 'id="completion-code"' not in html
    assert participant.resume_code not in html and participant.short_code not in html
    assert 'name="participant_code"' in html


def test_typing_the_short_code_shows_the_completion_code(client, lab):
    participant = consent_post(client, lab.join_code)
    finish(client, participant)
    other = Client()
    response = other.post(url("done", participant), {"participant_code": participant.short_code.lower()})
    assert response.status_code == 302 and response["Location"] == url("done", participant)
    assert other.get(url("done", participant)).context["completion_code"]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", b"This field is required"),
        ("AAAA-AAAA-AAA", b"That is not the participant code of this page"),
        ("hello", b"That is not the participant code of this page"),
    ],
)
def test_a_wrong_code_on_the_thank_you_page_is_refused_with_a_message(client, lab, make_participant, typed, message):
    participant = consent_post(client, lab.join_code)
    finish(client, participant)
    other = Client()
    response = other.post(url("done", participant), {"participant_code": typed})
    assert response.status_code == 400
    assert message in response.content and b'id="completion-code"' not in response.content
    assert "threatlab_finished" not in response.cookies


def test_guessing_the_code_of_a_thank_you_page_is_limited_but_the_right_code_still_opens_it(client, lab, settings):
    settings.RESUME_GUESS_LIMIT_PER_ADDRESS = 2
    participant = consent_post(client, lab.join_code)
    finish(client, participant)
    other = Client()
    for _ in range(2):
        assert other.post(url("done", participant), {"participant_code": "AAAA-AAAA-AAA"}).status_code == 400
    response = other.post(url("done", participant), {"participant_code": "AAAA-AAAA-AAA"})
    assert response.status_code == 429 and b"Too many wrong participant codes" in response.content
    response = other.post(url("done", participant), {"participant_code": participant.short_code})
    assert response.status_code == 302 and other.get(url("done", participant)).context["completion_code"]


def test_another_participants_code_does_not_open_a_thank_you_page(client, lab, make_participant):
    participant = consent_post(client, lab.join_code)
    finish(client, participant)
    someone_else = make_participant()
    response = Client().post(url("done", participant), {"participant_code": someone_else.resume_code})
    assert response.status_code == 400


def test_the_browser_that_finished_sees_its_code_for_ten_minutes(client, lab, monkeypatch):
    participant = consent_post(client, lab.join_code)
    response = finish(client, participant)
    assert response["Location"] == url("done", participant)
    assert client.get(url("done", participant)).context["completion_code"]
    later = time.time() + views.SHOWS_COMPLETION_CODE_SECONDS + 1
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert "completion_code" not in client.get(url("done", participant)).context


def test_the_finished_participants_own_page_carries_no_participant_code(client, lab):
    participant = consent_post(client, lab.join_code)
    finish(client, participant)
    html = client.get(url("done", participant)).content.decode()
    assert 'id="completion-code"' in html
    assert participant.resume_code not in html, "the footer's code would unlock the page for the next student"


def test_a_participant_not_yet_done_is_sent_from_the_thank_you_page_to_their_stage(client, lab):
    participant = consent_post(client, lab.join_code)
    response = client.post(url("done", participant), {"participant_code": participant.short_code})
    assert response["Location"] == url("training", participant)


@pytest.mark.parametrize("name", [pattern.name for pattern in participant_urls if pattern.name != "diagram"])
def test_every_participant_page_is_sent_no_store(client, lab, name):
    participant = consent_post(client, lab.join_code)
    finish(client, participant)
    for browser in (client, Client()):
        response = browser.get(url(name, participant))
        assert response.status_code in (200, 302)
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"], name
    assert "no-store" in client.post(url("done", participant), {"participant_code": ""})["Cache-Control"]


def test_every_stage_page_and_its_form_errors_are_sent_no_store(client, lab):
    participant = consent_post(client, lab.join_code)
    for name in ("training", "threats", "usefulness"):
        page = client.get(url(name, participant))
        assert "no-store" in page["Cache-Control"], name
        refused = client.post(url(name, participant), {"exposure": "not json"})
        assert refused.status_code == 400 and "no-store" in refused["Cache-Control"], name
        participant.refresh_from_db()
        if name == "training":
            client.post(url("training", participant))
        elif name == "threats":
            client.post(url("threats", participant), threat_answers(participant))


def test_a_page_with_form_errors_writes_no_session_row(client, lab):
    participant = consent_post(client, lab.join_code)
    client.post(url("training", participant))
    assert client.post(url("threats", participant), {}).status_code == 400
    client.post(url("threats", participant), threat_answers(participant))
    assert client.post(url("usefulness", participant), {}).status_code == 400
    assert client.post(reverse("experiment:consent", args=[lab.join_code]), {}).status_code in (302, 400)
    assert Session.objects.count() == 0
