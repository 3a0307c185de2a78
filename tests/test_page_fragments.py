"""Pages render shared content once per worker (experiment/content.py, templatetags/fragments.py): they must still
show every edit at once, never show one participant's data to another, and run a constant number of queries."""

from urllib.parse import urljoin

import pytest
from django.db import connection
from django.template import Context, Template, TemplateSyntaxError
from django.template.loader import get_template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from experiment.content import content_of
from experiment.forms import ThreatAnswersForm
from experiment.models import Arm, ArmDiagram, Experiment, Participant, Stage
from threats.models import MaterialSection, Threat

pytestmark = pytest.mark.django_db


def _page(client, participant: Participant, name: str, **kwargs):
    return client.get(reverse(f"experiment:{name}", args=[participant.code]), **kwargs)


def _at(participant: Participant, stage: Stage) -> Participant:
    Participant.objects.filter(pk=participant.pk).update(stage=stage)
    participant.refresh_from_db()
    return participant


def test_a_saved_threat_or_section_shows_on_the_next_page(client, make_participant):
    participant = _at(make_participant(), Stage.THREATS)
    key_before = Experiment.objects.get().content_key
    assert "Description of REAL-1" in _page(client, participant, "threats").content.decode()

    threat = Threat.objects.get(ref="REAL-1")
    threat.description = "An edited description"
    threat.save()
    section = MaterialSection.objects.get()
    section.body_html = "<p>An edited section.</p>"
    section.save()

    assert Experiment.objects.get().content_key != key_before, "another worker learns of the edit by the key"
    html = _page(client, participant, "threats").content.decode()
    assert "An edited description" in html and "Description of REAL-1" not in html
    assert "An edited section." in html


def test_a_diagram_removed_from_an_arm_leaves_its_pages(client, make_participant):
    participant = _at(make_participant(), Stage.TRAINING)
    arm = Arm.objects.get(pk=participant.arm_id)
    first = ArmDiagram.objects.filter(arm=arm).order_by("position").first().diagram
    assert f"../diagrams/{first.slug}.svg" in _page(client, participant, "training").content.decode()

    arm.diagrams.remove(first)

    assert f"../diagrams/{first.slug}.svg" not in _page(client, participant, "training").content.decode()
    assert client.get(reverse("experiment:diagram", args=[participant.code, first.slug])).status_code == 404


def test_a_page_shows_no_other_participants_code(client, make_participant):
    first, second = (_at(make_participant(), Stage.THREATS) for _ in range(2))
    _page(client, first, "threats")
    html = _page(client, second, "threats").content.decode()
    assert str(second.code) in html
    assert str(first.code) not in html


def test_the_diagram_links_lead_to_the_participants_own_diagrams(client, make_participant):
    participant = _at(make_participant(), Stage.THREATS)
    page_url = reverse("experiment:threats", args=[participant.code])
    html = client.get(page_url).content.decode()
    shown = content_of(participant.session.experiment).shown_diagrams(participant.arm_id)
    assert shown
    for diagram in shown:
        url = urljoin(page_url, f"../diagrams/{diagram.slug}.svg")
        assert f'src="../diagrams/{diagram.slug}.svg"' in html
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")


def test_each_arm_sees_only_its_own_diagrams_beside_the_threats(client, make_participant, experiment):
    dfd_arm, control = Arm.objects.filter(experiment=experiment).order_by("position")
    first, second = (_at(make_participant(), Stage.THREATS) for _ in range(2))
    Participant.objects.filter(pk=first.pk).update(arm=dfd_arm)
    Participant.objects.filter(pk=second.pk).update(arm=control)

    dfd_page = _page(client, first, "threats").content.decode()
    control_page = _page(client, second, "threats").content.decode()

    assert 'src="../diagrams/dfd.svg"' in dfd_page
    assert 'src="../diagrams/sequence.svg"' in control_page
    assert "dfd.svg" not in control_page and "Data flow diagram" not in control_page
    # The language chooser returns each participant to their own page.
    assert f'name="next" value="/p/{second.code}/threats/"' in control_page


def test_each_participant_sees_the_cards_numbered_in_their_own_order(client, make_participant):
    first, second = (_at(make_participant(), Stage.THREATS) for _ in range(2))
    order = sorted(first.threat_order)
    Participant.objects.filter(pk=first.pk).update(threat_order=order)
    Participant.objects.filter(pk=second.pk).update(threat_order=order[::-1])
    refs = dict(Threat.objects.values_list("pk", "ref"))

    for participant, threat_ids in ((first, order), (second, order[::-1]), (first, order)):
        html = _page(client, participant, "threats").content.decode()
        numbered = [f"{position}. {refs[pk]}</h2>" for position, pk in enumerate(threat_ids, start=1)]
        assert all(heading in html for heading in numbered), participant
        assert [html.index(h) for h in numbered] == sorted(html.index(h) for h in numbered)
        assert f'value="{",".join(map(str, threat_ids))}"' in html, "shown_order is the participant's"


@pytest.mark.parametrize("ask_confidence", [False, True])
def test_the_joined_cards_are_the_cards_rendered_at_their_positions(experiment, ask_confidence):
    content = content_of(experiment)
    threats = content.threats_in_order(sorted(content.threats)[::-1])
    form = ThreatAnswersForm(threats, ask_confidence=ask_confidence, share_key=(content.key, ask_confidence))
    cards = Template("{% load fragments %}{% threat_cards form key %}")
    article = get_template("includes/threat_article.html")

    for _page in range(2):  # rendered, then joined from what the worker kept
        joined = cards.render(Context({"form": form, "key": (content.key, ask_confidence)}))
        one_by_one = ""
        for position, threat in enumerate(threats, start=1):
            field, confidence = form.bound_fields_of(threat)
            one_by_one += article.render(
                {"threat": threat, "field": field, "confidence": confidence, "position": position}
            )
        assert joined == one_by_one
        assert "\ue000" not in joined, "no card keeps the stand-in for its number"


def test_answers_sent_back_with_an_error_stay_checked(client, make_participant):
    participant = _at(make_participant(), Stage.THREATS)
    _page(client, participant, "threats")  # the unanswered cards are now rendered and kept
    threats = content_of(participant.session.experiment).threats_in_order(participant.threat_order)
    data = {"shown_order": ",".join(str(t.pk) for t in threats), f"threat_{threats[0].pk}": "applicable"}

    response = client.post(reverse("experiment:threats", args=[participant.code]), data)

    html = response.content.decode()
    assert response.status_code == 400
    assert f'name="threat_{threats[0].pk}" value="applicable" id="id_threat_{threats[0].pk}_0" required checked' in html
    assert f"Choose applicable or not applicable for {threats[1].ref}." in html
    assert _page(client, participant, "threats").content.decode().count(" checked") == 0


def test_each_language_gets_its_own_rendering(client, make_participant):
    participant = _at(make_participant(), Stage.THREATS)
    english = _page(client, participant, "threats").content.decode()
    dutch = _page(client, participant, "threats", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Description" in english and "Beschrijving" not in english
    assert "Beschrijving" in dutch


@pytest.mark.parametrize(
    "stage,name",
    [
        (Stage.TRAINING, "training"),
        (Stage.THREATS, "threats"),
        (Stage.USEFULNESS, "usefulness"),
        (Stage.DONE, "done"),
    ],
)
def test_a_student_page_runs_one_query(client, make_participant, stage, name):
    participant = _at(make_participant(), stage)
    _page(client, participant, name)
    with CaptureQueriesContext(connection) as queries:
        assert _page(client, participant, name).status_code == 200
    assert len(queries) == 1, [q["sql"] for q in queries]


def test_a_fragment_without_its_key_fails_loudly():
    template = Template('{% load fragments %}{% fragment "x" content_key %}shared{% endfragment %}')
    with pytest.raises(TemplateSyntaxError, match="content_key"):
        template.render(Context({}))


def test_saving_the_experiment_gives_it_a_new_key(experiment):
    before = Experiment.objects.get().content_key
    experiment.title = "Renamed"
    experiment.save()
    assert Experiment.objects.get().content_key != before
