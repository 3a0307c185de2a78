"""Experiment content in several languages: written in the definition, shown in the student's language."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from experiment.models import Experiment
from experiment.services import sessions
from tests.helpers import consent_post, url
from tests.test_definition import minimal, sheet_in

pytestmark = pytest.mark.django_db


def translated() -> dict:
    data = sheet_in(minimal(), "nl", "zh-hans")
    data["experiment"]["title"] = {"en": "Experiment", "nl": "Experiment (NL)", "zh-hans": "实验"}
    data["experiment"]["participant_title"] = {"en": "A lab", "nl": "Een practicum", "zh-hans": "实验课"}
    data["scenario"]["sections"][0]["title"] = {"en": "Intro", "nl": "Inleiding"}
    data["scenario"]["threats"][0]["description"] = {"en": "An attacker reads it", "nl": "Een aanvaller leest het"}
    data["scenario"]["threats"][0]["assumptions"] = {"en": ["One"], "nl": ["Een"]}
    data["experiment"]["questionnaires"] = [
        {
            "placement": "entry",
            "title": {"en": "Background", "nl": "Achtergrond"},
            "intro": "",
            "items": [
                {
                    "key": "level",
                    "kind": "single_choice",
                    "text": {"en": "Your level?", "nl": "Je niveau?"},
                    "options": [
                        {"value": "low", "label": {"en": "Low", "nl": "Laag"}},
                        {"value": "high", "label": "High"},
                    ],
                    "rows": [],
                    "required": True,
                }
            ],
        }
    ]
    return data


@pytest.fixture
def translated_lab(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(translated()))
    call_command("load_experiment", str(path), stdout=StringIO())
    return sessions.create_session(Experiment.objects.get(slug="exp"), open_now=True)


def in_dutch() -> Client:
    client = Client()
    client.post("/i18n/setlang/", {"language": "nl", "next": "/"})
    return client


def test_the_student_sees_the_content_in_their_language(translated_lab):
    dutch, english = in_dutch(), Client()
    for client, words in (
        (dutch, ["Een practicum", "Je niveau?", "Laag", "High", "Achtergrond"]),
        (english, ["A lab", "Your level?", "Low", "Background"]),
    ):
        consent = client.get(f"/join/{translated_lab.join_code}/").content.decode()
        assert words[0] in consent
        participant = consent_post(client, translated_lab.join_code)
        entry = client.get(url("entry", participant)).content.decode()
        for word in words[1:]:
            assert word in entry
        client.post(url("entry", participant), {"level": "low"})
        participant.refresh_from_db()
        training = client.get(url("training", participant)).content.decode()
        assert ("Inleiding" in training) == (client is dutch)
        client.post(url("training", participant))
        threats = client.get(url("threats", participant)).content.decode()
        assert ("Een aanvaller leest het" in threats) == (client is dutch)
        assert ("An attacker reads it" in threats) == (client is english)


def test_a_translated_definition_round_trips(translated_lab, capsys, tmp_path):
    call_command("dump_experiment", "exp")
    dumped = json.loads(capsys.readouterr().out)
    expected = translated()
    assert dumped["experiment"]["title"] == expected["experiment"]["title"]
    assert dumped["experiment"]["participant_title"] == expected["experiment"]["participant_title"]
    assert dumped["scenario"]["threats"][0]["assumptions"] == {"en": ["One"], "nl": ["Een"]}
    assert dumped["experiment"]["questionnaires"][0]["items"][0]["options"][0]["label"] == {"en": "Low", "nl": "Laag"}
    assert dumped["experiment"]["questionnaires"][0]["items"][0]["options"][1]["label"] == "High"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"en": "x", "fr": "y"}, "scenario.threats[0].description: unknown language(s) fr"),
        ({"nl": "y"}, 'scenario.threats[0].description: a translated text needs the default language "en"'),
        ({"en": "x", "nl": ["y"]}, "scenario.threats[0].description.nl: must be the same kind of value"),
    ],
)
def test_bad_translations_are_reported_with_their_place(tmp_path, value, message):
    data = minimal()
    data["scenario"]["threats"][0]["description"] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(
        CommandError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")
    ):
        call_command("load_experiment", str(path))
    assert not Experiment.objects.exists()
