"""Blinding: no participant reads the name of a diagram that their arm does not get, nor the research title.

The definition validator refuses a definition whose participant-facing text names a diagram to an arm without it,
listing each place; the shipped experiments load clean; and the pages a control participant is served, in every
language, name no diagram of the other arm.
"""

import importlib
import json
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import reverse

from experiment import definition, stages
from experiment.content import renew_key
from experiment.definition import blinding
from experiment.definition.validate import DefinitionError
from experiment.models import Arm, Experiment, Participant, Stage
from experiment.services import participation, sessions
from tests.conftest import SVG
from tests.helpers import consent_post, lacked_terms, url
from tests.test_definition import as_older, minimal
from threats.models import Scenario

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SHIPPED = sorted(FIXTURES.glob("*.json"))
LANGUAGES = [code for code, _name in settings.LANGUAGES]


def _arms_without_a_diagram() -> list[tuple[str, str]]:
    """(file, arm) for every arm of a shipped experiment that does not get every diagram of its scenario."""
    found = []
    for path in SHIPPED:
        data = json.loads(path.read_text(encoding="utf-8"))
        every = {d["slug"] for d in data["scenario"]["diagrams"]}
        found += [(path.name, arm["slug"]) for arm in data["experiment"]["arms"] if set(arm["diagrams"]) != every]
    return found


def problems_of(data: dict) -> list[str]:
    """The problems the validator lists for ``data``; none when it validates."""
    try:
        definition.validate(data)
    except DefinitionError as error:
        return error.problems
    return []


def leaks_of(data: dict) -> list[str]:
    return [problem for problem in problems_of(data) if ": names diagram " in problem]


# -- the validator ----------------------------------------------------------------------------------------------------


def test_a_definition_that_names_no_diagram_to_an_arm_without_it_validates():
    assert problems_of(minimal()) == []


def test_visible_text_that_every_arm_reads_may_not_name_a_diagram_one_arm_lacks():
    data = minimal()
    data["scenario"]["sections"][0]["body_html"] = "<p>Compare the text with the <strong>DFD</strong>.</p>"
    assert leaks_of(data) == [
        'scenario.sections[0].body_html (en): names diagram dfd ("DFD"), which arm control does not get'
    ]


def test_a_title_attribute_is_read_too():
    data = minimal()
    data["scenario"]["task_html"] = '<p>Read <abbr title="data flow diagram">the model</abbr> first.</p>'
    assert leaks_of(data) == [
        'scenario.task_html (en), title attribute: names diagram dfd ("data flow diagram"), '
        "which arm control does not get"
    ]


def test_an_alt_text_is_read_too():
    """A diagram's text alternative and the text of its SVG are read by the arms that get the diagram: the sequence
    diagram's may not name the DFD, which its control readers lack."""
    data = minimal()
    sequence = data["scenario"]["diagrams"][0]
    sequence["text_alternative"] = "Lifelines: A, B. The data flow diagram shows the same."
    sequence["svg"] = SVG.replace("<svg ", '<svg aria-label="Sequence, drawn like the DFD" ')
    assert leaks_of(data) == [
        'scenario.diagrams[0].text_alternative (en): names diagram dfd ("data flow diagram"), '
        "which arm control does not get",
        'scenario.diagrams[0].svg (en), aria-label attribute: names diagram dfd ("DFD"), '
        "which arm control does not get",
    ]


def test_a_diagram_may_name_itself_and_what_all_its_readers_get():
    data = minimal()
    dfd = data["scenario"]["diagrams"][1]
    dfd["title"] = "Data flow diagram (DFD), beside the sequence diagram"
    dfd["text_alternative"] = "The DFD: processes A and B."
    dfd["svg"] = SVG.replace("<title>t</title>", "<title>DFD</title>")
    assert leaks_of(data) == []


def test_a_questionnaires_labels_are_read():
    data = minimal()
    data["experiment"]["questionnaires"] = [
        {
            "placement": "entry",
            "title": "About you",
            "intro": "",
            "items": [
                {
                    "key": "familiarity",
                    "kind": "likert_rows",
                    "text": "How familiar are you with these?",
                    "options": [{"value": 1, "label": "Not at all"}, {"value": 2, "label": "Very"}],
                    "rows": [{"key": "flows", "label": "Data flow diagram"}],
                }
            ],
        }
    ]
    assert leaks_of(data) == [
        'experiment.questionnaires[0].items[0].rows[0].label (en): names diagram dfd ("Data flow diagram"), '
        "which arm control does not get"
    ]


def test_every_language_is_read_with_its_own_terms():
    data = minimal()
    data["scenario"]["sections"][0]["body_html"] = {
        "en": "<p>The system.</p>",
        "nl": "<p>Zie het Gegevensstroomdiagram.</p>",
        "zh-hans": "<p>请参阅数据流图。</p>",
    }
    data["scenario"]["threats"][1]["assumptions"] = {"en": ["An assumption."], "nl": ["Niet in het DFD."]}
    assert leaks_of(data) == [
        'scenario.sections[0].body_html (nl): names diagram dfd ("Gegevensstroomdiagram"), '
        "which arm control does not get",
        'scenario.sections[0].body_html (zh-hans): names diagram dfd ("数据流图"), which arm control does not get',
        'scenario.threats[1].assumptions[0] (nl): names diagram dfd ("DFD"), which arm control does not get',
    ]


def test_a_term_matches_as_a_word_in_any_case_but_not_inside_another_word():
    data = minimal()
    threats = data["scenario"]["threats"]
    threats[0]["title"] = "Spoofing the ADFD service"
    threats[1]["title"] = "The DFDX queue"
    threats[2]["title"] = "Tampering (see the dfd)"
    threats[3]["description"] = "未在DFD中画出"
    assert leaks_of(data) == [
        'scenario.threats[2].title (en): names diagram dfd ("dfd"), which arm control does not get',
        'scenario.threats[3].description (en): names diagram dfd ("DFD"), which arm control does not get',
    ]


def test_the_participant_title_is_read_and_the_research_title_is_not():
    data = minimal()
    data["experiment"]["title"] = "Does a DFD help to validate threats?"
    data["experiment"]["description"] = "DFD arm against control."
    data["scenario"]["threats"][0]["rationale"] = "Real: see flow 3 of the DFD."
    assert leaks_of(data) == []
    data["experiment"]["participant_title"] = {"en": "Threats", "nl": "Helpt een DFD?"}
    assert leaks_of(data) == [
        'experiment.participant_title (nl): names diagram dfd ("DFD"), which arm control does not get'
    ]


def test_text_every_arm_reads_names_no_diagram_that_some_arm_lacks():
    """Three arms: text only, sequence diagram only, DFD only. Shared text naming either diagram leaks to two."""
    data = minimal()
    data["experiment"]["arms"] = [
        {"slug": "text", "name": "Text", "diagrams": []},
        {"slug": "sequence", "name": "Sequence", "diagrams": ["sequence"]},
        {"slug": "dfd", "name": "DFD", "diagrams": ["dfd"]},
    ]
    data["scenario"]["threats"][0]["affected_components"] = ["The API server (see the sequence diagram)"]
    assert leaks_of(data) == [
        'scenario.threats[0].affected_components[0] (en): names diagram sequence ("sequence diagram"), '
        "which arms dfd, text do not get"
    ]


def test_a_text_shown_only_after_the_lab_may_name_every_diagram():
    data = definition.validate(minimal())
    data["scenario"]["threats"][0]["description"] = "Feedback: the DFD's flow 3 shows why."
    assert len(blinding.leaks(data)) == 1
    after_the_lab = {**blinding.PLACES, ("scenario", "threats"): {"description": blinding.Shown.AFTER_THE_LAB}}
    assert blinding.leaks(data, after_the_lab) == []


@pytest.mark.django_db
def test_leaks_are_listed_with_the_other_problems_and_nothing_is_loaded(tmp_path):
    data = minimal()
    data["scenario"]["title"] = "Reading a DFD"
    data["scenario"]["threats"][0]["stride"] = "spoof"
    path = tmp_path / "def.json"
    path.write_text(json.dumps(data))
    with pytest.raises(DefinitionError) as raised:
        definition.load(definition.read_file(path))
    assert raised.value.problems[0].startswith('scenario.threats[0].stride: "spoof" is not one of')
    assert raised.value.problems[1:] == [
        'scenario.title (en): names diagram dfd ("DFD"), which arm control does not get'
    ]
    assert not Scenario.objects.exists()


@pytest.mark.parametrize(
    "terms,problem",
    [
        ({"fr": ["DFD"]}, "scenario.diagrams[1].terms: unknown language fr; use en, nl, zh-hans"),
        ({"en": "DFD"}, "scenario.diagrams[1].terms.en: expected a list of non-empty texts"),
        ({"en": ["DFD", " "]}, "scenario.diagrams[1].terms.en: expected a list of non-empty texts"),
        ({"en": ["x" * 101]}, "scenario.diagrams[1].terms.en: a term has at most 100 characters"),
        (["DFD"], 'scenario.diagrams[1].terms: expected an object, got ["DFD"]'),
    ],
)
def test_malformed_terms_are_refused_with_their_place(terms, problem):
    data = minimal()
    data["scenario"]["diagrams"][1]["terms"] = terms
    assert problem in problems_of(data)


def test_a_version_2_definition_must_declare_terms_and_a_participant_title():
    data = minimal()
    del data["experiment"]["participant_title"]
    del data["scenario"]["diagrams"][0]["terms"]
    assert problems_of(data) == ["scenario.diagrams[0].terms: missing", "experiment.participant_title: missing"]


# -- older definitions ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_version_1_definition_loads_with_the_scenarios_title_and_the_terms_of_each_diagrams_kind():
    data = as_older(minimal(), 1)
    del data["experiment"]["participant_title"]
    for diagram in data["scenario"]["diagrams"]:
        del diagram["terms"]
    data["scenario"]["title"] = {"en": "Deploying a Pod", "nl": "Een Pod uitrollen"}
    experiment = definition.load(definition.validate(data))
    assert experiment.participant_title == "Deploying a Pod"
    assert experiment.translations["nl"]["participant_title"] == "Een Pod uitrollen"
    terms = {d.slug: d.terms for d in experiment.scenario.diagrams.all()}
    assert terms == {"sequence": blinding.DEFAULT_TERMS["sequence"], "dfd": blinding.DEFAULT_TERMS["dfd"]}
    dumped = definition.dump(experiment)
    assert dumped["schema_version"] == definition.SCHEMA_VERSION
    assert dumped["experiment"]["participant_title"] == {"en": "Deploying a Pod", "nl": "Een Pod uitrollen"}


@pytest.mark.django_db
def test_a_version_1_definition_that_names_the_dfd_to_the_control_arm_is_refused():
    data = as_older(minimal(), 1)
    del data["experiment"]["participant_title"]
    for diagram in data["scenario"]["diagrams"]:
        del diagram["terms"]
    data["scenario"]["threats"][0]["affected_components"] = ["Cluster configuration file, not shown in the DFD"]
    assert leaks_of(data) == [
        'scenario.threats[0].affected_components[0] (en): names diagram dfd ("DFD"), which arm control does not get'
    ]


# -- the shipped experiments ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_every_shipped_experiment_loads_clean(path):
    data = definition.read_file(path)
    assert data["schema_version"] == definition.SCHEMA_VERSION
    assert blinding.leaks(data) == []
    for diagram in data["scenario"]["diagrams"]:
        assert set(diagram["terms"]) == {code for code, _name in settings.LANGUAGES}, diagram["slug"]


def test_no_shipped_experiment_shows_its_research_title_to_participants():
    for path in SHIPPED:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["experiment"]["participant_title"] != data["experiment"]["title"], path.name


@pytest.mark.django_db
def test_participants_read_the_participant_title_and_never_the_research_title(client, lab, experiment):
    experiment.title = "Does a DFD help to validate threats?"
    experiment.participant_title = "Deploying a mini system"
    experiment.translations = {"nl": {"title": "Helpt een DFD?", "participant_title": "Een mini-systeem uitrollen"}}
    experiment.save()
    renew_key([experiment.pk])
    consent = client.get(reverse("experiment:consent", args=[lab.join_code])).content.decode()
    assert "You are invited to take part in a study: <strong>Deploying a mini system</strong>." in consent
    participant = consent_post(client, lab.join_code)
    training = client.get(url("training", participant)).content.decode()
    assert '<span class="navbar-text small">Deploying a mini system</span>' in training
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"
    dutch = client.get(url("training", participant)).content.decode()
    assert '<span class="navbar-text small">Een mini-systeem uitrollen</span>' in dutch
    for page in (consent, training, dutch):
        assert "Does a DFD" not in page and "Helpt een DFD" not in page


# -- the migrations ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_migration_gives_an_existing_experiment_its_scenarios_title_in_each_language(experiment):
    migration = importlib.import_module("experiment.migrations.0010_participant_title_from_scenario_title")
    scenario = experiment.scenario
    scenario.translations = {"nl": {"title": "Mini-scenario"}, "zh-hans": {"title": "迷你场景"}}
    scenario.save()
    # As the added column leaves an experiment that existed before it.
    Experiment.objects.filter(pk=experiment.pk).update(participant_title="", translations={"nl": {"title": "Mini"}})
    key = experiment.content_key
    migration.title_from_scenario(apps, None)
    experiment.refresh_from_db()
    assert experiment.participant_title == "Mini scenario"
    assert experiment.translations == {
        "nl": {"title": "Mini", "participant_title": "Mini-scenario"},
        "zh-hans": {"participant_title": "迷你场景"},
    }
    assert experiment.content_key != key


@pytest.mark.django_db
def test_the_migration_gives_existing_diagrams_the_terms_of_their_kind(experiment):
    migration = importlib.import_module("threats.migrations.0004_diagram_terms_by_kind")
    experiment.scenario.diagrams.update(terms={})
    migration.give_terms_by_kind(apps, None)
    terms = dict(experiment.scenario.diagrams.values_list("slug", "terms"))
    assert terms == {"sequence": blinding.DEFAULT_TERMS["sequence"], "dfd": blinding.DEFAULT_TERMS["dfd"]}
    # The migration keeps its own copy of the defaults, as they were when it was written.
    assert migration.TERMS_BY_KIND == {k: v for k, v in blinding.DEFAULT_TERMS.items() if v}


# -- the pages a participant is served --------------------------------------------------------------------------------


def named(pattern: re.Pattern, response) -> list[str]:
    assert response.status_code == 200, response.status_code
    return [match.group(0) for match in pattern.finditer(response.content.decode())]


@pytest.mark.django_db
@pytest.mark.parametrize("name,arm_slug", _arms_without_a_diagram())
def test_no_page_an_arm_is_served_names_a_diagram_it_lacks_in_any_language(name, arm_slug):
    """Every student page, as the test client gets it (the whole HTML: text, attributes, the page title), and every
    diagram the pages show, in each language."""
    experiment = definition.load(definition.read_file(FIXTURES / name))
    session = sessions.create_session(experiment, open_now=True)
    arm = Arm.objects.select_related("experiment__scenario").get(experiment=experiment, slug=arm_slug)
    pattern = lacked_terms(arm)
    for language in LANGUAGES:
        # A browser of its own per language: one browser stays with the participant it joined as.
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        seen = {"consent": named(pattern, client.get(reverse("experiment:consent", args=[session.join_code])))}
        participant = consent_post(client, session.join_code)
        for stage in stages.stages_for(experiment):
            if stage == Stage.TRAINING:
                if participant.stage == Stage.ENTRY:
                    participation.submit_entry(participant, [])
                # The arm is drawn at random; this participant is put in the arm under test.
                Participant.objects.filter(pk=participant.pk).update(arm=arm)
            Participant.objects.filter(pk=participant.pk).update(stage=stage)
            seen[stage] = named(pattern, client.get(reverse(stages.URL_NAMES[stage], args=[participant.code])))
        for diagram in arm.shown_diagrams():
            svg = client.get(reverse("experiment:diagram", args=[participant.code, diagram.slug]))
            seen[diagram.slug] = named(pattern, svg)
        assert {page: terms for page, terms in seen.items() if terms} == {}, language
        assert len(seen) == 1 + len(stages.stages_for(experiment)) + len(arm.shown_diagrams())
