"""The information sheet and consent statements come from the definition: required by the validator, in every
language the definition has, shown on the consent page, and recorded with each participant."""

import copy
import importlib

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from experiment import definition
from experiment.content import renew_key
from experiment.definition import blinding
from experiment.definition.examples import EXAMPLE_SHEET_VERSION
from experiment.definition.validate import SHEET_FIELDS
from experiment.models import DebriefShown, Experiment, InformationSheet, LabSession, Participant
from tests.test_blinding import SHIPPED
from tests.test_definition import as_older, minimal, sheet_in, write

pytestmark = pytest.mark.django_db


def problems_of(data: dict) -> list[str]:
    with pytest.raises(definition.DefinitionError) as refused:
        definition.validate(data)
    return refused.value.problems


# -- the definition ---------------------------------------------------------------------------------------------------


def test_a_definition_without_an_information_sheet_is_refused_with_the_places_listed(tmp_path):
    data = minimal()
    del data["experiment"]["information_sheet"]
    del data["experiment"]["debrief_html"]
    with pytest.raises(CommandError) as refused:
        call_command("load_experiment", write(tmp_path, data))
    assert "experiment.information_sheet: missing" in str(refused.value)
    assert "experiment.debrief_html: missing" in str(refused.value)
    assert not Experiment.objects.exists()


def test_an_incomplete_sheet_lists_each_missing_part():
    data = minimal()
    sheet = data["experiment"]["information_sheet"]
    del sheet["contact"], sheet["ethics_approval"]
    sheet["statements"] = [{"key": "Take part!", "text": "", "required": False}]
    assert problems_of(data) == [
        "experiment.information_sheet.contact: missing",
        "experiment.information_sheet.ethics_approval: missing",
        'experiment.information_sheet.statements[0].key: use lower-case letters, digits and _, got "Take part!"',
        "experiment.information_sheet.statements[0].text: must not be empty",
        "experiment.information_sheet.statements: at least one statement must be required (consent to take part)",
    ]


def test_a_sheet_must_be_written_in_every_language_the_definition_has():
    data = sheet_in(minimal(), "nl")
    data["scenario"]["title"] = {"en": "Scenario", "nl": "Scenario", "zh-hans": "场景"}
    problems = problems_of(data)
    assert (
        "experiment.information_sheet.contact: missing in zh-hans, which the experiment's other texts are written in"
        in problems
    )
    assert (
        "experiment.information_sheet.statements[1].text: missing in zh-hans, which the experiment's other texts are "
        "written in" in problems
    )
    assert "experiment.debrief_html: missing in zh-hans, which the experiment's other texts are written in" in problems
    assert not any(" nl," in p or "in nl " in p for p in problems)


def test_an_unknown_debrief_timing_is_refused():
    data = minimal()
    data["experiment"]["debrief_shown"] = "never"
    assert problems_of(data) == ['experiment.debrief_shown: "never" is not one of with_feedback, at_once']


def test_a_sheet_that_names_a_diagram_an_arm_lacks_is_refused_but_the_debrief_may():
    data = minimal()
    data["experiment"]["information_sheet"]["duration"] = "30 minutes, with a data flow diagram for some of you."
    data["experiment"]["debrief_html"] = "<p>Half of you had a DFD.</p>"
    data["scenario"]["threats"][0]["rationale"] = "Visible in the DFD."
    assert blinding.leaks(definition.validate(copy.deepcopy(minimal()))) == []
    assert problems_of(data) == [
        'experiment.information_sheet.duration (en): names diagram dfd ("data flow diagram"), which arm control '
        "does not get"
    ]


def test_an_older_definition_loads_with_the_example_sheet_and_a_warning(tmp_path, capsys):
    call_command("load_experiment", write(tmp_path, as_older(minimal(), 2)))
    out = capsys.readouterr().out
    assert "Warning: experiment.information_sheet: the example sheet" in out
    experiment = Experiment.objects.get()
    sheet = experiment.information_sheet
    assert sheet.is_example and sheet.version == EXAMPLE_SHEET_VERSION
    assert set(sheet.translations) == {"nl", "zh-hans"}
    assert [s.key for s in sheet.statements.all()] == ["read_information", "take_part", "open_data"]
    assert "fabricated on purpose" in experiment.debrief_html
    assert experiment.debrief_shown == DebriefShown.WITH_FEEDBACK


def test_a_definition_with_its_own_sheet_loads_without_a_warning(tmp_path, capsys):
    call_command("load_experiment", write(tmp_path, minimal()))
    assert "Warning" not in capsys.readouterr().out
    sheet = InformationSheet.objects.get()
    assert not sheet.is_example and sheet.version == "2025-1"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_every_shipped_experiment_has_a_complete_example_sheet_in_every_language(path):
    experiment = definition.load(definition.read_file(path))
    sheet = experiment.information_sheet
    assert sheet.is_example, "marked as an example to replace"
    assert definition.warnings(experiment)
    for name in SHEET_FIELDS:
        assert getattr(sheet, name).strip()
        assert {"nl", "zh-hans"} <= {lang for lang, parts in sheet.translations.items() if parts.get(name)}
    assert any(s.required for s in sheet.statements.all())
    assert "fabricated" in experiment.debrief_html


# -- the consent page -------------------------------------------------------------------------------------------------


def consent_url(lab: LabSession) -> str:
    return reverse("experiment:consent", args=[lab.join_code])


def token_of(client: Client, lab: LabSession) -> str:
    return client.get(consent_url(lab)).context["form"]["entry_token"].value()


def test_the_consent_page_shows_the_sheet_and_a_checkbox_per_statement(client, lab):
    html = client.get(consent_url(lab)).content.decode()
    for text in ("Dr. Test", "Test University", "test@example.edu", "ERB-TEST-1", "About 30 minutes.", "test-1"):
        assert text in html
    assert 'type="checkbox" name="statement_take_part"' in html
    assert 'type="checkbox" name="statement_open_data"' in html
    assert "DEBRIEF" not in html


def test_consent_without_a_required_statement_is_refused_with_a_clear_message_and_nothing_stored(client, lab):
    data = {"entry_token": token_of(client, lab), "decision": "consent", "statement_open_data": "on"}
    response = client.post(consent_url(lab), data)
    assert response.status_code == 400
    assert "Tick this statement to take part" in response.content.decode()
    assert not Participant.objects.exists()
    lab.refresh_from_db()
    assert lab.declined_count == 0


def test_a_participant_records_the_sheet_version_and_the_statements_agreed_to(client, lab):
    data = {"entry_token": token_of(client, lab), "decision": "consent", "statement_take_part": "on"}
    response = client.post(consent_url(lab), data)
    assert response.status_code == 302
    participant = Participant.objects.get()
    assert participant.sheet_version == "test-1"
    assert participant.agreed_statements == ["take_part"]


def test_declining_needs_no_statement(client, lab):
    response = client.post(consent_url(lab), {"entry_token": token_of(client, lab), "decision": "decline"})
    assert response.status_code == 302
    assert not Participant.objects.exists()


def test_a_statement_the_sheet_does_not_have_is_ignored(client, lab):
    data = {
        "entry_token": token_of(client, lab),
        "decision": "consent",
        "statement_take_part": "on",
        "statement_sell_my_data": "on",
    }
    assert client.post(consent_url(lab), data).status_code == 302
    assert Participant.objects.get().agreed_statements == ["take_part"]


def test_the_statements_are_shown_in_the_students_language(client, lab):
    statement = lab.experiment.information_sheet.statements.get(key="take_part")
    statement.translations = {"nl": {"text": "Ik doe mee."}}
    statement.save()
    renew_key([lab.experiment_id])
    html = client.get(consent_url(lab), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Ik doe mee." in html


# -- the migration ----------------------------------------------------------------------------------------------------


def test_the_migration_gives_existing_experiments_the_example_sheet_and_existing_participants_their_consent(
    experiment, make_participant
):
    migration = importlib.import_module("experiment.migrations.0015_information_sheet_debrief_and_feedback_release")
    participant = make_participant()
    # As the added tables and columns leave an experiment and a participant that existed before them.
    InformationSheet.objects.all().delete()
    Experiment.objects.filter(pk=experiment.pk).update(debrief_html="")
    Participant.objects.filter(pk=participant.pk).update(sheet_version="", agreed_statements=[])
    key = experiment.content_key
    migration.give_example_sheet(apps, None)
    experiment.refresh_from_db()
    participant.refresh_from_db()
    sheet = experiment.information_sheet
    assert sheet.is_example and sheet.version == EXAMPLE_SHEET_VERSION and sheet.statements.count() == 3
    assert sheet.translations["nl"]["contact"].startswith("Vragen over het onderzoek")
    assert "fabricated on purpose" in experiment.debrief_html and "debrief_html" in experiment.translations["nl"]
    assert experiment.content_key != key
    assert participant.sheet_version == migration.BUILT_IN_VERSION
    assert participant.agreed_statements == ["take_part"]
    # Its participants keep working: the next page is served.
    assert Client().get(reverse("experiment:training", args=[participant.code])).status_code == 200
