"""Experiment definition files: validated with places, loaded all or nothing, dumped to load again."""

import copy
import importlib
import json
from io import BytesIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from experiment import definition
from experiment.definition.validate import SHEET_FIELDS
from experiment.models import Arm, Experiment
from tests.conftest import SVG
from threats.models import Scenario, Threat

pytestmark = pytest.mark.django_db


def sheet_in(data: dict, *languages: str) -> dict:
    """``data`` with its information sheet, consent statements and debrief written in ``languages`` too, as a
    definition that has texts in those languages must have them."""
    exp = data["experiment"]
    sheet = exp["information_sheet"]
    for obj, fields in [(exp, ["debrief_html"]), (sheet, SHEET_FIELDS), *((s, ["text"]) for s in sheet["statements"])]:
        for name in fields:
            text = obj[name]["en"] if isinstance(obj[name], dict) else obj[name]
            obj[name] = {"en": text, **{language: f"{text} ({language})" for language in languages}}
    return data


def as_older(data: dict, version: int) -> dict:
    """``data`` as a definition of an older schema ``version``, which had no information sheet or debrief."""
    data["schema_version"] = version
    for name in ("information_sheet", "debrief_html", "debrief_shown"):
        del data["experiment"][name]
    return data


def minimal() -> dict:
    return {
        "schema_version": 4,
        "experiment": {
            "slug": "exp",
            "title": "Experiment",
            "participant_title": "Scenario",
            "description": "",
            "hypothesis": "greater",
            "debrief_html": "<p>The study asks whether a DFD helps; some threats were made up.</p>",
            "debrief_shown": "with_feedback",
            "information_sheet": {
                "version": "2025-1",
                "researchers": "Dr. R",
                "institution": "Uni",
                "contact": "r@example.edu",
                "ethics_approval": "ERB-1",
                "duration": "30 minutes",
                "voluntariness": "Voluntary",
                "data_use": "Anonymous",
                "statements": [
                    {"key": "take_part", "text": "I take part.", "required": True},
                    {"key": "open_data", "text": "Publish my answers.", "required": False},
                ],
            },
            "arms": [
                {"slug": "dfd", "name": "DFD", "diagrams": ["sequence", "dfd"]},
                {"slug": "control", "name": "Control", "diagrams": ["sequence"]},
            ],
        },
        "scenario": {
            "slug": "scen",
            "title": "Scenario",
            "task_html": "<p>Task</p>",
            "sections": [{"title": "Intro", "body_html": "<p>x</p>", "video_url": ""}],
            "diagrams": [
                {
                    "slug": "sequence",
                    "kind": "sequence",
                    "title": "Seq",
                    "terms": {"en": ["sequence diagram"]},
                    "svg": SVG,
                    "text_alternative": "a",
                },
                {
                    "slug": "dfd",
                    "kind": "dfd",
                    "title": "DFD",
                    "terms": {
                        "en": ["DFD", "data flow diagram"],
                        "nl": ["gegevensstroomdiagram"],
                        "zh-hans": ["数据流图"],
                    },
                    "svg": SVG,
                    "text_alternative": "b",
                },
            ],
            "threats": [
                {
                    "ref": f"T-{i}",
                    "title": f"Threat {i}",
                    "description": "d",
                    "stride": "spoofing",
                    "assumptions": ["a"],
                    "affected_components": ["c"],
                    "is_real": i % 2 == 0,
                    "rationale": "r",
                    "source": "s",
                }
                for i in range(4)
            ],
        },
    }


def write(tmp_path, data) -> str:
    path = tmp_path / "def.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_a_valid_definition_loads_every_part(tmp_path):
    call_command("load_experiment", write(tmp_path, minimal()))
    experiment = Experiment.objects.get(slug="exp")
    assert experiment.hypothesis == "greater"
    assert [a.slug for a in experiment.arms.order_by("position")] == ["dfd", "control"]
    assert [d.slug for d in Arm.objects.get(slug="dfd").shown_diagrams()] == ["sequence", "dfd"]
    assert [d.slug for d in Arm.objects.get(slug="control").shown_diagrams()] == ["sequence"]
    assert list(experiment.scenario.threats.values_list("ref", "is_real")) == [
        ("T-0", True),
        ("T-1", False),
        ("T-2", True),
        ("T-3", False),
    ]


def test_every_problem_is_reported_with_its_place_and_nothing_is_written(tmp_path):
    data = minimal()
    data["scenario"]["threats"][1]["stride"] = "spoof"
    del data["scenario"]["threats"][2]["is_real"]
    data["scenario"]["threats"][3]["assumptions"] = "one string, not a list"
    data["experiment"]["arms"][1]["diagrams"] = ["missing"]
    data["experiment"]["arms"].append({"slug": "dfd", "name": "again", "diagrams": []})
    with pytest.raises(CommandError) as raised:
        call_command("load_experiment", write(tmp_path, data))
    message = str(raised.value)
    assert "5 problem(s), nothing was loaded" in message
    assert 'scenario.threats[1].stride: "spoof" is not one of spoofing' in message
    assert "scenario.threats[2].is_real: missing" in message
    assert "scenario.threats[3].assumptions: expected a list" in message
    assert 'experiment.arms[1].diagrams[0]: no diagram "missing"' in message
    assert 'experiment.arms[].slug: "dfd" appears more than once' in message
    assert Scenario.objects.count() == 0 and Experiment.objects.count() == 0


def test_a_file_that_is_not_json_says_where(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"schema_version": 1,\n "experiment": }')
    with pytest.raises(CommandError, match="not valid JSON at line 2"):
        call_command("load_experiment", str(path))


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("load_experiment", str(tmp_path / "nope.json"))


def test_a_newer_schema_version_is_refused(tmp_path):
    data = minimal()
    data["schema_version"] = definition.SCHEMA_VERSION + 1
    with pytest.raises(
        CommandError, match=f"reads versions 1 to {definition.SCHEMA_VERSION}, not {definition.SCHEMA_VERSION + 1}"
    ):
        call_command("load_experiment", write(tmp_path, data))


def test_one_arm_is_not_an_experiment(tmp_path):
    data = minimal()
    data["experiment"]["arms"] = data["experiment"]["arms"][:1]
    with pytest.raises(CommandError, match=r"experiment.arms: needs at least 2 item\(s\), has 1"):
        call_command("load_experiment", write(tmp_path, data))


def test_an_svg_file_beside_the_definition_is_read_in(tmp_path):
    data = minimal()
    (tmp_path / "d.svg").write_text(SVG)
    data["scenario"]["diagrams"][1] = {
        "slug": "dfd",
        "kind": "dfd",
        "title": "DFD",
        "terms": {"en": ["DFD"]},
        "svg_file": "d.svg",
        "text_alternative": "b",
    }
    call_command("load_experiment", write(tmp_path, data))
    assert Scenario.objects.get().diagrams.get(slug="dfd").svg == SVG


def test_a_missing_svg_file_is_reported(tmp_path):
    data = minimal()
    data["scenario"]["diagrams"][1] = {
        "slug": "dfd",
        "kind": "dfd",
        "title": "D",
        "terms": {"en": ["DFD"]},
        "svg_file": "x.svg",
        "text_alternative": "b",
    }
    with pytest.raises(CommandError, match=r"scenario.diagrams\[1\].svg_file: cannot read x.svg"):
        call_command("load_experiment", write(tmp_path, data))


def test_loading_again_replaces_an_experiment_without_participants(tmp_path):
    call_command("load_experiment", write(tmp_path, minimal()))
    data = minimal()
    data["scenario"]["threats"][0]["title"] = "Renamed"
    call_command("load_experiment", write(tmp_path, data))
    assert Threat.objects.get(ref="T-0").title == "Renamed"
    assert Experiment.objects.count() == 1


def test_an_experiment_with_participants_is_never_overwritten(experiment, make_participant, tmp_path):
    make_participant()
    data = minimal()
    data["experiment"]["slug"] = experiment.slug
    with pytest.raises(CommandError, match="already has participants"):
        call_command("load_experiment", write(tmp_path, data))
    assert Experiment.objects.get(slug=experiment.slug).scenario.slug == "mini"


def test_skip_existing_leaves_a_loaded_experiment_alone(tmp_path, capsys):
    call_command("load_experiment", write(tmp_path, minimal()))
    data = minimal()
    data["scenario"]["threats"][0]["title"] = "Renamed"
    call_command("load_experiment", "--skip-existing", write(tmp_path, data))
    assert Threat.objects.get(ref="T-0").title == "Threat 0"
    assert "already loaded" in capsys.readouterr().out


def test_dump_then_load_gives_the_same_definition(tmp_path, capsys):
    call_command("load_experiment", write(tmp_path, minimal()))
    capsys.readouterr()
    call_command("dump_experiment", "exp")
    dumped = json.loads(capsys.readouterr().out)
    # A version 1 file dumps as the current version; its analysis plan is the default, so it is left out.
    current = minimal() | {"schema_version": definition.SCHEMA_VERSION}
    assert dumped == current
    again = copy.deepcopy(dumped)
    Experiment.objects.all().delete()
    call_command("load_experiment", write(tmp_path, again))
    assert definition.dump(Experiment.objects.get(slug="exp")) == current


def test_dumping_an_unknown_experiment_names_the_known_ones(experiment):
    with pytest.raises(CommandError, match="Known: mini-exp"):
        call_command("dump_experiment", "nope")


def test_loading_renews_the_content_key_of_the_loaded_experiment(monkeypatch):
    # The package's name ``load`` is the function, so the module is reached through sys.modules.
    loader = importlib.import_module("experiment.definition.load")
    renewed = []
    monkeypatch.setattr(loader, "renew_key", renewed.append)
    experiment = definition.load(definition.validate(minimal()))
    assert renewed == [[experiment.pk]]


def _with(path: tuple, value) -> str:
    """minimal() as JSON text, with ``value`` at ``path``."""
    data = minimal()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(data)


# Files that once made a 500 (a RecursionError, a ValueError from int(), a DataError for a slug over 50 characters
# on PostgreSQL, a download that could not be sent), each with the problem the validator now names.
BAD_FILES = {
    "deeply nested": (
        json.dumps(minimal()).replace('"video_url": ""', '"video_url": ' + "[" * 5000 + "]" * 5000),
        "not valid JSON at line 1 column {column}: nested deeper than 20 levels",
    ),
    "a 5,000-digit integer": (
        json.dumps(minimal()).replace('"schema_version": 4', '"schema_version": ' + "1" * 5000),
        "not valid JSON at line 1 column 20: a number of 5000 digits; at most 20",
    ),
    "a slug over 50 characters": (_with(("experiment", "slug"), "x" * 51), "experiment.slug: at most 50 characters"),
    "a slug that is a path": (
        _with(("scenario", "slug"), "../x"),
        'scenario.slug: use letters, digits, - and _ only, got "../x"',
    ),
    "a slug with a slash": (
        _with(("experiment", "arms", 0, "slug"), "a/b"),
        'experiment.arms[0].slug: use letters, digits, - and _ only, got "a/b"',
    ),
    "a slug with CR/LF": (
        _with(("experiment", "slug"), "exp\r\nSet-Cookie: x=1"),
        'experiment.slug: use letters, digits, - and _ only, got "exp\\r\\nSet-Cookie: x=1"',
    ),
    "a slug with a quote": (
        _with(("scenario", "diagrams", 0, "slug"), 'seq".json'),
        'scenario.diagrams[0].slug: use letters, digits, - and _ only, got "seq\\".json"',
    ),
    "a NUL in a text": (
        _with(("scenario", "threats", 2, "title"), "Threat\x00 2"),
        "scenario.threats[2].title: contains a NUL character (\\u0000), which no text column stores",
    ),
    "a text that names the DFD to the control arm": (
        _with(("scenario", "threats", 0, "description"), "As the DFD shows, the token travels in clear."),
        'scenario.threats[0].description (en): names diagram dfd ("DFD"), which arm control does not get',
    ),
    "a javascript: video link": (
        _with(("scenario", "sections", 0, "video_url"), "javascript:alert(1)"),
        'scenario.sections[0].video_url: use an http(s) address or a /path, got "javascript:alert(1)"',
    ),
}


def _expected(text: str, message: str) -> str:
    if "{column}" not in message:
        return message
    # video_url sits 4 levels deep (the file, scenario, sections, a section): its 17th bracket is the 21st level.
    return message.format(column=text.index("[" * 5000) + 17)


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_definition_file_is_refused_by_the_command_with_its_place(tmp_path, case):
    text, message = BAD_FILES[case]
    path = tmp_path / "def.json"
    path.write_text(text)
    with pytest.raises(CommandError) as raised:
        call_command("load_experiment", str(path))
    assert _expected(text, message) in str(raised.value)
    assert Scenario.objects.count() == 0 and Experiment.objects.count() == 0


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_definition_upload_is_refused_with_400_and_its_place(researcher, experiment, case):
    text, message = BAD_FILES[case]
    client = Client()
    client.force_login(researcher)
    upload = BytesIO(text.encode())
    upload.name = "def.json"
    response = client.post(reverse("admin:experiment_experiment_upload"), {"file": upload})
    assert response.status_code == 400
    assert any(_expected(text, message) in problem for problem in response.context["problems"])
    assert list(Experiment.objects.values_list("slug", flat=True)) == ["mini-exp"]
    assert list(Scenario.objects.values_list("slug", flat=True)) == [experiment.scenario.slug]


def test_an_upload_of_50_mb_is_refused_with_413_before_it_is_read(researcher, experiment):
    client = Client()
    client.force_login(researcher)
    upload = BytesIO(b" " * (50 * 1024 * 1024))
    upload.name = "huge.json"
    response = client.post(reverse("admin:experiment_experiment_upload"), {"file": upload})
    assert response.status_code == 413
    assert "a definition file may be at most 5.0\xa0MB" in response.context["problems"][0]
    assert list(Experiment.objects.values_list("slug", flat=True)) == ["mini-exp"]


def test_the_upload_still_checks_its_csrf_token(researcher, experiment):
    client = Client(enforce_csrf_checks=True)
    client.force_login(researcher)
    upload = BytesIO(json.dumps(minimal()).encode())
    upload.name = "def.json"
    assert client.post(reverse("admin:experiment_experiment_upload"), {"file": upload}).status_code == 403
    assert list(Experiment.objects.values_list("slug", flat=True)) == ["mini-exp"]


def test_a_definition_file_over_the_limit_is_refused_by_the_command(tmp_path, settings):
    settings.THREATLAB_DEFINITION_MAX_BYTES = 1000
    path = tmp_path / "def.json"
    path.write_text(json.dumps(minimal()))
    with pytest.raises(CommandError, match=r"def.json: [\d,]+ bytes; a definition may have at most 1,000 bytes"):
        call_command("load_experiment", str(path))
    assert Experiment.objects.count() == 0


def test_a_download_names_its_file_in_one_header_whatever_the_slug(researcher, experiment):
    # A slug stored before slugs were checked, with a quote and a line break.
    Experiment.objects.filter(pk=experiment.pk).update(slug='a"b\r\nc')
    client = Client()
    client.force_login(researcher)
    response = client.get(reverse("admin:experiment_experiment_definition", args=[experiment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''a%22b%0D%0Ac.json"
