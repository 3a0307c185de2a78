"""Student pages cache their shared blocks per content key, arm and language: an edit made where content is saved
(the admin, a definition load) shows on the next page, a cached block is the block rendered afresh, no
participant's data reaches another, and a page runs a constant handful of queries."""

import json
import re
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from django.core.cache import caches
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from experiment.content import CACHE
from experiment.forms import UsefulnessForm
from experiment.models import Arm, ArmDiagram, Experiment, Participant, Stage
from experiment.sources import sources_for
from tests.conftest import staff_user
from threats.models import MaterialSection, Threat

pytestmark = pytest.mark.django_db


def _page(client, participant: Participant, name: str, **kwargs):
    return client.get(reverse(f"experiment:{name}", args=[participant.code]), **kwargs)


def _at(participant: Participant, stage: Stage) -> Participant:
    Participant.objects.filter(pk=participant.pk).update(stage=stage)
    participant.refresh_from_db()
    return participant


def _form_data(instance, **changes) -> dict:
    """What the admin's change form posts for ``instance``, with ``changes``: JSON fields as JSON text."""
    data = {}
    fields = [field.name for field in instance._meta.concrete_fields]
    for name, value in {**model_to_dict(instance, fields=fields), **changes}.items():
        if isinstance(value, dict | list):
            value = json.dumps(value)
        if value is not None and value is not False:
            data[name] = "on" if value is True else value
    return data


def _inline(prefix: str, rows: list[dict]) -> dict:
    """An admin inline formset's POST data: its management form and one form per row."""
    data = {f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": len(rows)}
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return data


@pytest.fixture
def admin_client(client):
    client.force_login(staff_user("admin", superuser=True))
    return client


def test_a_threat_edited_in_the_admin_shows_on_the_next_page(client, admin_client, make_participant):
    participant = _at(make_participant(), Stage.THREATS)
    key_before = Experiment.objects.get().content_key
    assert "Description of REAL-1" in _page(client, participant, "threats").content.decode()

    threat = Threat.objects.get(ref="REAL-1")
    response = admin_client.post(
        reverse("admin:threats_threat_change", args=[threat.pk]),
        _form_data(threat, description="An edited description"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    assert Experiment.objects.get().content_key != key_before, "every worker learns of the edit by the key"
    html = _page(client, participant, "threats").content.decode()
    assert "An edited description" in html and "Description of REAL-1" not in html


def test_a_section_edited_in_the_scenarios_admin_shows_on_the_next_page(client, admin_client, make_participant):
    participant = _at(make_participant(), Stage.TRAINING)
    assert "<p>Text.</p>" in _page(client, participant, "training").content.decode()
    scenario = Experiment.objects.get().scenario
    section = MaterialSection.objects.get()
    rows = {
        "sections": [{**_form_data(section, body_html="<p>An edited section.</p>"), "scenario": scenario.pk}],
        "diagrams": [{**_form_data(d), "scenario": scenario.pk} for d in scenario.diagrams.order_by("pk")],
        "threats": [{**_form_data(t), "scenario": scenario.pk} for t in scenario.threats.order_by("pk")],
    }
    data = _form_data(scenario)
    for prefix, forms in rows.items():
        data.update(_inline(prefix, forms))

    response = admin_client.post(reverse("admin:threats_scenario_change", args=[scenario.pk]), data)
    assert response.status_code == 302, re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode())

    html = _page(client, participant, "training").content.decode()
    assert "An edited section." in html and "<p>Text.</p>" not in html


def test_a_diagram_removed_from_an_arm_in_the_admin_leaves_its_pages(client, admin_client, make_participant):
    participant = _at(make_participant(), Stage.TRAINING)
    arm = Arm.objects.get(pk=participant.arm_id)
    links = list(ArmDiagram.objects.filter(arm=arm).order_by("position"))
    first = links[0].diagram
    assert f"../diagrams/{first.slug}.svg" in _page(client, participant, "training").content.decode()

    rows = [{**_form_data(link), "DELETE": "on" if link == links[0] else ""} for link in links]
    data = {**_form_data(arm), **_inline("diagram_links", rows)}
    response = admin_client.post(reverse("admin:experiment_arm_change", args=[arm.pk]), data)
    assert response.status_code == 302

    assert f"../diagrams/{first.slug}.svg" not in _page(client, participant, "training").content.decode()
    assert client.get(reverse("experiment:diagram", args=[participant.code, first.slug])).status_code == 404


def test_saving_or_deleting_content_in_the_admin_gives_its_experiment_a_new_key(admin_client, experiment):
    keys = [Experiment.objects.get().content_key]
    response = admin_client.post(
        reverse("admin:experiment_experiment_change", args=[experiment.pk]),
        {**_form_data(experiment, title="Renamed"), **_inline("arms", [])} | {"arms-INITIAL_FORMS": 0},
    )
    assert response.status_code == 302
    keys.append(Experiment.objects.get().content_key)

    fake = Threat.objects.get(ref="FAKE-2")
    response = admin_client.post(reverse("admin:threats_threat_delete", args=[fake.pk]), {"post": "yes"})
    assert response.status_code == 302 and not Threat.objects.filter(pk=fake.pk).exists()
    keys.append(Experiment.objects.get().content_key)

    chosen = Threat.objects.filter(ref="FAKE-1").values_list("pk", flat=True)
    response = admin_client.post(
        reverse("admin:threats_threat_changelist"),
        {"action": "delete_selected", "_selected_action": list(chosen), "post": "yes"},
    )
    assert response.status_code == 302 and not Threat.objects.filter(ref="FAKE-1").exists()
    keys.append(Experiment.objects.get().content_key)

    assert len(set(keys)) == 4, "each save or delete renewed the key"
    assert Experiment.objects.get().title == "Renamed"


def test_a_cached_block_is_the_block_rendered_afresh(client, make_participant):
    """Every page is the same whether its blocks come from the cache or are rendered for it."""
    csrf = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    for stage, name in ((Stage.TRAINING, "training"), (Stage.THREATS, "threats"), (Stage.USEFULNESS, "usefulness")):
        participant = _at(make_participant(), stage)
        caches[CACHE].clear()
        rendered = csrf.sub("", _page(client, participant, name).content.decode())
        cached = csrf.sub("", _page(client, participant, name).content.decode())
        assert cached == rendered, name


def test_no_template_syntax_reaches_a_student_page(client, make_participant):
    """A comment in {# #} spans one line only: a longer one would be sent to the student as text."""
    for stage, name in ((Stage.TRAINING, "training"), (Stage.THREATS, "threats"), (Stage.USEFULNESS, "usefulness")):
        html = _page(client, _at(make_participant(), stage), name).content.decode()
        assert not re.search(r"\{[#%]|[#%]\}", html), name


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
    shown = list(participant.arm.shown_diagrams())
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


class _Structure(HTMLParser):
    """A page's elements in order, as tag and class, leaving out what stands for one diagram: its figure and its
    button in the diagram bar."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, str]] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.skipping:
            self.skipping += tag not in self.VOID
        elif tag == "figure" or "data-viewer-open" in attrs:
            self.skipping = 1
        else:
            self.elements.append((tag, attrs.get("class") or ""))

    def handle_endtag(self, tag):
        if self.skipping and tag not in self.VOID:
            self.skipping -= 1


def _structure(html: str) -> list[tuple[str, str]]:
    parser = _Structure()
    parser.feed(html)
    return parser.elements


def test_the_arms_threats_pages_differ_only_in_their_diagrams(client, make_participant, experiment):
    """The same panel, bar, threats and viewer in every arm; each diagram of the arm once in the panel, with a button
    to the viewer there and one in the bar."""
    pages = {}
    for arm in Arm.objects.filter(experiment=experiment).order_by("position"):
        participant = _at(make_participant(), Stage.THREATS)
        Participant.objects.filter(pk=participant.pk).update(arm=arm)
        html = _page(client, participant, "threats").content.decode()
        shown = list(arm.shown_diagrams())
        assert html.count('<figure class="diagram') == len(shown), arm.slug
        for diagram in shown:
            assert html.count(f'data-viewer-src="../diagrams/{diagram.slug}.svg"') == 2, (arm.slug, diagram.slug)
        assert html.count("<dialog") == 1
        pages[arm.slug] = _structure(html)
    assert pages["dfd"] == pages["control"]
    assert ("aside", "material-panel") in pages["dfd"]
    assert ("dialog", "diagram-viewer") in pages["dfd"]


def test_each_arm_rates_its_own_sources(client, make_participant, experiment):
    dfd_arm, control = Arm.objects.filter(experiment=experiment).order_by("position")
    first, second = (_at(make_participant(), Stage.USEFULNESS) for _ in range(2))
    Participant.objects.filter(pk=first.pk).update(arm=dfd_arm)
    Participant.objects.filter(pk=second.pk).update(arm=control)

    assert 'name="rating_diagram_dfd"' in _page(client, first, "usefulness").content.decode()
    assert 'name="rating_diagram_dfd"' not in _page(client, second, "usefulness").content.decode()
    form = UsefulnessForm(sources_for(control.shown_diagrams()))
    ratings = {name: "3" for name in form.fields if name.startswith("rating_")}
    sent = UsefulnessForm(sources_for(control.shown_diagrams()), {**ratings, "comment": "fine"})
    assert sent.is_valid(), sent.errors
    assert sent.ratings() == {name.removeprefix("rating_"): 3 for name in ratings}
    assert list(form.fields)[-1] == "comment", "the comment comes after the ratings, as on the page"


def test_each_participant_sees_the_cards_numbered_in_their_own_order(client, make_participant):
    first, second = (_at(make_participant(), Stage.THREATS) for _ in range(2))
    order = sorted(first.threat_order)
    Participant.objects.filter(pk=first.pk).update(threat_order=order)
    Participant.objects.filter(pk=second.pk).update(threat_order=order[::-1])
    titles = dict(Threat.objects.values_list("pk", "title"))

    for participant, threat_ids in ((first, order), (second, order[::-1]), (first, order)):
        html = _page(client, participant, "threats").content.decode()
        numbered = [f"{position}. {titles[pk]}</h2>" for position, pk in enumerate(threat_ids, start=1)]
        assert all(heading in html for heading in numbered), participant
        assert [html.index(h) for h in numbered] == sorted(html.index(h) for h in numbered)
        assert f'value="{",".join(map(str, threat_ids))}"' in html, "shown_order is the participant's"


def test_answers_sent_back_with_an_error_stay_checked(client, make_participant):
    participant = _at(make_participant(), Stage.THREATS)
    _page(client, participant, "threats")  # the unanswered cards are now cached
    threats = [Threat.objects.get(pk=pk) for pk in participant.threat_order]
    data = {"shown_order": ",".join(str(t.pk) for t in threats), f"threat_{threats[0].pk}": "applicable"}

    response = client.post(reverse("experiment:threats", args=[participant.code]), data)

    html = response.content.decode()
    assert response.status_code == 400
    assert f'name="threat_{threats[0].pk}" value="applicable" id="id_threat_{threats[0].pk}_0" required checked' in html
    assert f"Choose applicable or not applicable for threat 2, {threats[1].title}." in html
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
def test_a_student_page_runs_at_most_three_queries_however_many_joined(client, make_participant, stage, name):
    participant = _at(make_participant(), stage)
    _page(client, participant, name)
    with CaptureQueriesContext(connection) as alone:
        assert _page(client, participant, name).status_code == 200
    for _ in range(20):
        _at(make_participant(), stage)
    with CaptureQueriesContext(connection) as among_many:
        assert _page(client, participant, name).status_code == 200
    assert len(alone) <= 3, [q["sql"] for q in alone]
    assert len(among_many) == len(alone)
