"""The threats' and the questionnaires' form fields are built once per content and language and shared by every
form (experiment/forms.py): each form must still hold only its own answers and errors, in its participant's
order, and show every edit and language at once."""

import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from experiment import services
from experiment.content import content_of
from experiment.forms import QuestionnaireForm, ThreatAnswersForm, UsefulnessForm, threat_field_name
from experiment.models import Arm, Experiment, Placement, QuestionnaireItem, Stage
from experiment.sources import sources_for

pytestmark = pytest.mark.django_db
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "kubernetes-pod-dfd.json"


def _threats_form(content, threats, data=None):
    return ThreatAnswersForm(threats, data, share_key=content.key)


def test_forms_of_one_content_share_fields_but_keep_their_own_answers_errors_and_order(experiment):
    content = content_of(experiment)
    threats = list(content.threats.values())
    shuffled = [threats[2], threats[0], threats[3], threats[1]]
    order = ",".join(str(t.pk) for t in shuffled)

    # One student forgets two answers; another, with another order, sends them all.
    partial = {"shown_order": order, threat_field_name(shuffled[1]): "applicable"}
    wrong = _threats_form(content, shuffled, partial)
    complete = {"shown_order": order, **{threat_field_name(t): "not_applicable" for t in shuffled}}
    right = _threats_form(content, shuffled, complete)
    fresh = _threats_form(content, threats)

    assert not wrong.is_valid()
    assert right.is_valid(), right.errors
    assert right.answers()[0][2] == "not_applicable"
    assert not fresh.is_bound and not fresh.errors
    name = threat_field_name(threats[0])
    assert wrong.fields[name] is fresh.fields[name], "the field is built once for the content"
    # Each form lists its fields, and so its errors, in its own participant's order.
    missing = [threat_field_name(t) for t in shuffled if t != shuffled[1]]
    assert [k for k in wrong.errors if k.startswith("threat_")] == missing
    assert [k for k in fresh.fields if k.startswith("threat_")] == [threat_field_name(t) for t in threats]


def test_an_order_made_before_a_threat_was_added_still_gets_a_form(experiment):
    content = content_of(experiment)
    threats = list(content.threats.values())
    older = _threats_form(content, threats[:2])
    newer = _threats_form(content, threats)

    assert [k for k in newer.fields if k.startswith("threat_")] == [threat_field_name(t) for t in threats]
    assert [k for k in older.fields if k.startswith("threat_")] == [threat_field_name(t) for t in threats[:2]]


def test_each_arm_rates_its_own_sources(experiment):
    content = content_of(experiment)
    dfd, control = (Arm.objects.get(experiment=experiment, slug=slug) for slug in ("dfd", "control"))

    def form(arm, data=None):
        return UsefulnessForm(sources_for(content.shown_diagrams(arm.pk)), data, share_key=(content.key, arm.pk))

    assert "rating_diagram_dfd" in form(dfd).fields
    assert "rating_diagram_dfd" not in form(control).fields
    ratings = {name: "3" for name in form(control).fields if name.startswith("rating_")}
    sent = form(control, {**ratings, "comment": "fine"})
    assert sent.is_valid(), sent.errors
    assert sent.ratings() == {name.removeprefix("rating_"): 3 for name in ratings}
    assert list(form(dfd).fields)[-1] == "comment", "the comment comes after the ratings, as on the page"


@pytest.fixture
def replication(db) -> Experiment:
    call_command("load_experiment", str(FIXTURE), stdout=StringIO())
    return Experiment.objects.get(slug="kubernetes-pod-dfd")


def test_questionnaire_fields_are_kept_per_language(replication):
    content = content_of(replication)
    _questionnaire, items = content.questionnaires[Placement.ENTRY]
    key = (content.key, Placement.ENTRY)
    with translation.override("en"):
        english = QuestionnaireForm(items, share_key=key)
    with translation.override("nl"):
        dutch = QuestionnaireForm(items, share_key=key)
    with translation.override("en"):
        english_again = QuestionnaireForm(items, share_key=key)

    name = items[0].key
    assert english.fields[name] is english_again.fields[name]
    assert dutch.fields[name] is not english.fields[name]
    assert dutch.fields[name].label == items[0].translations["nl"]["text"] != english.fields[name].label


def test_an_edited_question_shows_on_the_next_page(client, replication):
    session = services.create_session(replication, open_now=True)
    participant = services.enrol(session, uuid.uuid4())
    assert participant.stage == Stage.ENTRY
    page = reverse("experiment:entry", args=[participant.code])
    item = QuestionnaireItem.objects.filter(questionnaire__experiment=replication).order_by("position").first()
    assert item.text in client.get(page).content.decode()

    item.text = "An edited question about Kubernetes"
    item.save()

    html = client.get(page).content.decode()
    assert "An edited question about Kubernetes" in html
