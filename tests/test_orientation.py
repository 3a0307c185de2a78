"""Where a student is: each page's step ("Step 3 of 7", counted from the experiment's own stages), the threats
page's answered counter, threat cards by number and title, and buttons that say "Next" until the last step."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from experiment.content import renew_key
from experiment.models import Experiment, Participant, Stage
from experiment.services import sessions
from experiment.stages import Progress
from tests.helpers import (
    REPLICATION_ENTRY,
    REPLICATION_FILE,
    consent_post,
    threat_answers,
    url,
    usefulness_answers,
)
from threats.models import Threat

pytestmark = pytest.mark.django_db
FIXTURE = REPLICATION_FILE
ENTRY = REPLICATION_ENTRY


def test_the_step_before_the_thank_you_page_finishes():
    assert Progress(6, 7).finishes and not Progress(5, 7).finishes and not Progress(7, 7).finishes


def test_every_page_of_a_lab_without_questionnaires_shows_its_step_of_five(client, lab):
    assert "Step 1 of 5" in client.get(reverse("experiment:consent", args=[lab.join_code])).content.decode()
    participant = consent_post(client, lab.join_code)
    assert "Step 2 of 5" in client.get(url("training", participant)).content.decode()
    client.post(url("training", participant))
    assert "Step 3 of 5" in client.get(url("threats", participant)).content.decode()
    client.post(url("threats", participant), threat_answers(participant))
    usefulness = client.get(url("usefulness", participant)).content.decode()
    assert "Step 4 of 5" in usefulness and "Submit and finish" in usefulness
    client.post(url("usefulness", participant), usefulness_answers(participant))
    assert "Step 5 of 5" in client.get(url("done", participant)).content.decode()


def test_a_lab_with_entry_and_exit_questionnaires_counts_seven_steps(client):
    call_command("load_experiment", str(FIXTURE), stdout=StringIO())
    lab = sessions.create_session(Experiment.objects.get(slug="kubernetes-pod-dfd"), open_now=True)
    participant = consent_post(client, lab.join_code)
    entry = client.get(url("entry", participant)).content.decode()
    assert "Step 2 of 7" in entry and ">Next</button>" in entry
    client.post(url("entry", participant), ENTRY)
    client.post(url("training", participant))
    participant.refresh_from_db()
    threats = client.get(url("threats", participant)).content.decode()
    assert "Step 4 of 7" in threats and ">Next</button>" in threats and "Submit" not in threats
    client.post(url("threats", participant), threat_answers(participant))
    usefulness = client.get(url("usefulness", participant)).content.decode()
    assert "Step 5 of 7" in usefulness and ">Next</button>" in usefulness and "Submit and finish" not in usefulness
    client.post(url("usefulness", participant), usefulness_answers(participant))
    exit_page = client.get(url("exit", participant)).content.decode()
    assert "Step 6 of 7" in exit_page and "Submit and finish" in exit_page


def test_the_threats_page_counts_the_answered_threats(client, lab):
    participant = consent_post(client, lab.join_code)
    client.post(url("training", participant))
    html = client.get(url("threats", participant)).content.decode()
    assert 'aria-live="polite"' in html and "0 of 4 answered</p>" in html
    assert 'data-pattern="{answered} of {total} answered"' in html

    data = threat_answers(participant)
    for threat_id in participant.threat_order[1:]:
        del data[f"threat_{threat_id}"]
    data[f"threat_{participant.threat_order[1]}"] = "maybe"
    refused = client.post(url("threats", participant), data)
    assert refused.status_code == 400 and "1 of 4 answered</p>" in refused.content.decode()


def test_threat_cards_are_titled_in_the_students_language(client, lab):
    participant = consent_post(client, lab.join_code)
    client.post(url("training", participant))
    threat = Threat.objects.get(pk=participant.threat_order[0])
    threat.translations = {"nl": {"title": "De eerste dreiging"}}
    threat.save()
    renew_key([lab.experiment_id])
    dutch = Client(headers={"accept-language": "nl"})
    dutch.cookies.update(client.cookies)
    html = dutch.get(url("threats", participant)).content.decode()
    assert '<h2 class="h5 card-title">1. De eerste dreiging</h2>' in html
    assert "Is deze dreiging juist en van toepassing: De eerste dreiging?" in html
    english = client.get(url("threats", participant)).content.decode()
    assert f'<h2 class="h5 card-title">1. {threat.title}</h2>' in english


def test_the_step_costs_no_query_once_the_stages_are_kept(client, lab, django_assert_max_num_queries):
    participant = consent_post(client, lab.join_code)
    Participant.objects.filter(pk=participant.pk).update(stage=Stage.TRAINING)
    client.get(url("training", participant))
    with django_assert_max_num_queries(1):
        assert "Step 2 of 5" in client.get(url("training", participant)).content.decode()
