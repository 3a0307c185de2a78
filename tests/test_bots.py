"""Bots take the lab through the real HTTP flow and are marked as simulated."""

import json
import random
from io import StringIO

import pytest
from django import forms
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from experiment.bots import BOT_HEADER, marks_real
from experiment.models import Choice, Experiment, LabSession, Participant, SessionStatus, Stage
from experiment.rehearsal import simulate
from experiment.services import sessions
from experiment.student_pages import CONSENT, Form, fill, participant_path, read_page
from tests.helpers import consent_post

pytestmark = pytest.mark.django_db


def correct_share(participant: Participant) -> float:
    answers = list(participant.answers.select_related("threat"))
    return sum((a.choice == Choice.APPLICABLE) == a.threat.is_real for a in answers) / len(answers)


def test_perfect_bots_answer_by_the_key(lab):
    results = simulate(lab, 6, profile="perfect", seed=1)
    assert len(results) == 6
    participants = Participant.objects.filter(session=lab)
    assert participants.count() == 6
    for participant in participants:
        assert participant.is_simulated
        assert participant.stage == Stage.DONE
        assert correct_share(participant) == 1.0
        assert participant.ratings.count() == (7 if participant.arm.slug == "dfd" else 6)
    assert all(r.completion_code for r in results)
    assert sorted(sessions.issued_codes(lab)) == sorted(r.completion_code for r in results)


def test_random_bots_store_a_full_set_of_answers(lab):
    simulate(lab, 8, profile="random", seed=2)
    for participant in Participant.objects.filter(session=lab):
        assert participant.answers.count() == 4
        assert participant.stage == Stage.DONE
    shares = [correct_share(p) for p in Participant.objects.filter(session=lab)]
    assert min(shares) < 1.0, "random answers are not all right"


def test_with_diagram_helps_the_dfd_arm_is_more_accurate(lab):
    simulate(lab, 40, profile="diagram_helps", seed=3, margin=0.35)
    by_arm = {"dfd": [], "control": []}
    for participant in Participant.objects.filter(session=lab).select_related("arm"):
        by_arm[participant.arm.slug].append(correct_share(participant))
    mean = {arm: sum(v) / len(v) for arm, v in by_arm.items()}
    assert mean["dfd"] > mean["control"] + 0.15


def test_the_profiles_decide_as_documented():
    rng = random.Random(0)
    assert all(marks_real("perfect", True, False, rng) for _ in range(20))
    assert not any(marks_real("perfect", False, True, rng) for _ in range(20))
    right = sum(marks_real("diagram_helps", True, True, rng, margin=0.4) for _ in range(2000))
    assert right == 2000, "0.6 + 0.4 is always right"
    with pytest.raises(ValueError, match="unknown profile"):
        marks_real("lazy", True, True, rng)


def test_a_forged_bot_header_does_not_mark_a_student_simulated(lab):
    client = Client(headers={BOT_HEADER: "forged"})
    participant = consent_post(client, lab.join_code)
    assert participant.is_simulated is False


def test_bots_may_rehearse_a_draft_session_but_students_may_not(lab):
    LabSession.objects.filter(pk=lab.pk).update(status=SessionStatus.DRAFT)
    lab.refresh_from_db()
    simulate(lab, 2, seed=4)
    assert Participant.objects.filter(is_simulated=True).count() == 2
    assert Client().get(reverse("experiment:consent", args=[lab.join_code])).status_code == 403


def test_the_command_runs_bots_of_a_profile(lab):
    out = StringIO()
    call_command(
        "simulate_participants",
        "--session",
        lab.join_code,
        "-n",
        "3",
        "--seed",
        "5",
        "--profile",
        "perfect",
        stdout=out,
    )
    assert "3 simulated participants (perfect)" in out.getvalue()
    assert Participant.objects.filter(is_simulated=True, stage=Stage.DONE).count() == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--session", "NOPENOPE"], "No session has the join code"),
        (["-n", "0"], "-n must be 1 or more"),
        (["--margin", "0.9"], "--margin must be between"),
    ],
)
def test_the_command_refuses_bad_arguments(lab, args, message):
    if "--session" not in args:
        args = ["--session", lab.join_code, *args]
    with pytest.raises(CommandError, match=message):
        call_command("simulate_participants", *args)
    assert Participant.objects.count() == 0


def test_the_command_reports_a_closed_session(lab):
    LabSession.objects.filter(pk=lab.pk).update(status=SessionStatus.CLOSED)
    with pytest.raises(CommandError, match="A bot could not finish: the join page answered HTTP 403"):
        call_command("simulate_participants", "--session", lab.join_code, "-n", "1")


def test_rehearse_then_reset_from_admin(instructor, lab):
    client = Client()
    client.force_login(instructor)
    response = client.post(reverse("admin:experiment_labsession_rehearse", args=[lab.pk]), follow=True)
    assert b"bots took the lab" in response.content
    assert Participant.objects.filter(session=lab, is_simulated=True).count() == 6
    response = client.post(reverse("admin:experiment_labsession_reset", args=[lab.pk]), follow=True)
    assert b"Rehearsal reset" in response.content
    assert Participant.objects.filter(session=lab).count() == 0
    assert lab.blocks.count() == 0 and sessions.issued_codes(lab) == []


def test_rehearse_from_admin_works_behind_the_https_proxy(instructor, lab, settings):
    # As deployed (config/settings.py with DEBUG off): the proxy says HTTPS, so Django's CSRF check wants the origin.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.ALLOWED_HOSTS = ["lab.example.org"]
    client = Client(HTTP_HOST="lab.example.org", HTTP_X_FORWARDED_PROTO="https")
    client.force_login(instructor)
    response = client.post(reverse("admin:experiment_labsession_rehearse", args=[lab.pk]), follow=True)
    assert b"bots took the lab" in response.content, response.content.decode()[:2000]
    assert Participant.objects.filter(session=lab, is_simulated=True, stage=Stage.DONE).count() == 6


def test_a_rehearsal_with_real_students_cannot_be_reset(instructor, lab):
    consent_post(Client(), lab.join_code)
    simulate(lab, 1, seed=6)
    client = Client()
    client.force_login(instructor)
    response = client.post(reverse("admin:experiment_labsession_reset", args=[lab.pk]), follow=True)
    assert b"Real students have joined" in response.content
    assert Participant.objects.filter(session=lab).count() == 2


def test_a_closed_session_cannot_be_rehearsed(instructor, lab):
    LabSession.objects.filter(pk=lab.pk).update(status=SessionStatus.CLOSED)
    client = Client()
    client.force_login(instructor)
    response = client.post(reverse("admin:experiment_labsession_rehearse", args=[lab.pk]), follow=True)
    assert b"A closed session cannot be rehearsed" in response.content
    assert Participant.objects.count() == 0


def test_definitions_download_and_upload_through_admin(researcher, experiment, instructor):
    client = Client()
    client.force_login(researcher)
    response = client.get(reverse("admin:experiment_experiment_definition", args=[experiment.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="mini-exp.json"'
    data = json.loads(response.content)
    data["experiment"]["slug"] = "mini-copy"
    data["scenario"]["slug"] = "mini-copy"
    upload = StringIO(json.dumps(data))
    upload.name = "copy.json"
    response = client.post(reverse("admin:experiment_experiment_upload"), {"file": upload})
    assert response.status_code == 302
    assert Participant.objects.count() == 0
    assert Experiment.objects.get(slug="mini-copy").scenario.threats.count() == 4
    instructor_client = Client()
    instructor_client.force_login(instructor)
    assert (
        instructor_client.get(reverse("admin:experiment_experiment_definition", args=[experiment.pk])).status_code
        == 403
    )
    assert instructor_client.get(reverse("admin:experiment_experiment_upload")).status_code == 403


def test_an_invalid_upload_lists_its_problems_and_loads_nothing(researcher, experiment):
    client = Client()
    client.force_login(researcher)
    data = {
        "schema_version": 1,
        "experiment": {"slug": "x"},
        "scenario": {
            "slug": "y",
            "diagrams": [
                {"slug": "d", "kind": "dfd", "title": "D", "text_alternative": "t", "svg_file": "../../etc/passwd"}
            ],
        },
    }
    upload = StringIO(json.dumps(data))
    upload.name = "bad.json"
    response = client.post(reverse("admin:experiment_experiment_upload"), {"file": upload})
    assert response.status_code == 400
    content = response.content.decode()
    assert "experiment.title: missing" in content
    assert "must carry its SVG inline" in content
    not_json = StringIO("{oops")
    not_json.name = "bad.json"
    response = client.post(reverse("admin:experiment_experiment_upload"), {"file": not_json})
    assert b"bad.json: not valid JSON at line 1 column 2" in response.content
    assert list(Experiment.objects.values_list("slug", flat=True)) == ["mini-exp"]


LANGUAGE_FORM = """<form class="language-chooser" action="/i18n/setlang/" method="post">
<input type="hidden" name="csrfmiddlewaretoken" value="tok"><input type="hidden" name="next" value="/here/">
<select name="language"><option value="en" selected>English</option><option value="nl">Nederlands</option></select>
<input type="submit" value="Change"></form>"""


class ThreatsForm(forms.Form):
    shown_order = forms.CharField(widget=forms.HiddenInput, initial="5,3")
    threat_5 = forms.ChoiceField(widget=forms.RadioSelect, choices=Choice.choices)
    confidence_5 = forms.ChoiceField(widget=forms.RadioSelect, choices=[("1", "1"), ("2", "2")])
    role = forms.ChoiceField(choices=[("", "---"), ("dev", "Developer"), ("ops", "Operator")])
    comment = forms.CharField(widget=forms.Textarea, required=False)


def test_a_page_form_reads_the_same_from_djangos_widgets_and_from_markup_written_by_hand():
    widgets = f"""{LANGUAGE_FORM}<form method="post" novalidate>
    <input type="hidden" name="csrfmiddlewaretoken" value="tok">{ThreatsForm().as_div()}
    <button type="submit" class="btn">Submit</button></form>"""
    by_hand = f"""{LANGUAGE_FORM}<FORM novalidate METHOD=post><input value='tok' type=hidden name=csrfmiddlewaretoken>
    <input id="id_shown_order" value="5,3" name="shown_order" type="hidden">
    <div class="form-check"><input class="form-check-input" value="applicable" type="radio" name="threat_5" required>
    <label>Applicable</label></div><input name="threat_5"
        type="radio" value="not_applicable">
    <input type="radio" name="confidence_5" value="1"><input type="radio" name="confidence_5" value="2">
    <select id="id_role" name="role"><option value="">---</option><option value="dev">Developer</option>
    <option>ops</option></select><textarea name="comment" rows="3"></textarea>
    <button class="btn">Submit</button></FORM>"""

    expected = Form(
        values={"csrfmiddlewaretoken": "tok", "shown_order": "5,3"},
        choices={"threat_5": ["applicable", "not_applicable"], "confidence_5": ["1", "2"], "role": ["dev", "ops"]},
        texts={"comment": ""},
    )
    assert read_page(widgets).form == expected
    assert read_page(by_hand).form == expected


def test_the_consent_button_sends_the_page_fields_every_statement_ticked_and_no_other_form_is_read():
    page = read_page(
        f"""{LANGUAGE_FORM}<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="tok">
        <input type="hidden" name="entry_token" value="e1" id="id_entry_token">
        <input type="checkbox" name="statement_take_part" id="id_statement_take_part">
        <input type="checkbox" name="statement_open_data" value="yes" checked>
        <button type="submit" name="decision" value="consent">I agree</button>
        <button name="decision" value="decline" type="submit">I do not agree</button></form>"""
    )

    assert fill(CONSENT, page.form, random.Random(0)) == {
        "csrfmiddlewaretoken": "tok",
        "entry_token": "e1",
        "statement_take_part": "on",
        "statement_open_data": "yes",
        "decision": "consent",
    }


def test_a_filled_form_answers_threats_as_told_and_everything_else_at_random():
    form = Form(
        values={"csrfmiddlewaretoken": "tok", "shown_order": "5,3"},
        choices={"threat_5": ["applicable", "not_applicable"], "threat_3": ["applicable", "not_applicable"]}
        | {"confidence_5": ["1", "2", "3"]},
        texts={"comment": "old"},
    )

    told = fill("threats", form, random.Random(1), answer=lambda threat: "applicable" if threat == 5 else "x")
    at_random = [fill("threats", form, random.Random(seed), text="a line") for seed in range(30)]

    assert told["threat_5"] == "applicable" and told["threat_3"] == "x"
    assert told["confidence_5"] in {"1", "2", "3"} and told["comment"] == ""
    assert told["csrfmiddlewaretoken"] == "tok" and told["shown_order"] == "5,3"
    assert {data["threat_3"] for data in at_random} == {"applicable", "not_applicable"}
    assert {data["comment"] for data in at_random} == {"a line"}
    assert fill("threats", form, random.Random(2)) == fill("threats", form, random.Random(2)), "seeded"


def test_a_page_shows_its_diagrams_completion_code_notices_and_errors():
    page = read_page(
        """<div role="status"><p class="alert alert-info">That step is &quot;already&quot;
        done.</p></div><div class="alert alert-danger" id="form-errors"><ul>
        <li><a class="alert-link" href="#id_threat_5_0">Answer T1.</a></li><li>Bad token.</li></ul></div>
        <ul class="errorlist"><li>Required.</li></ul>
        <figure><img alt="DFD" src="../diagrams/dfd.svg"></figure><img src="../diagrams/dfd.svg">
        <img src="/static/logo.png"><img class="x" src="../diagrams/context.svg">
        <p class="display-6"><code id="completion-code">ABCDE-12345</code></p>"""
    )

    assert page.images == ["../diagrams/dfd.svg", "../diagrams/context.svg"]
    assert page.completion_code == "ABCDE-12345"
    assert page.notices == ['That step is "already" done.']
    assert page.errors == ["Answer T1.", "Bad token.", "Required."]
    assert page.form is None


def test_a_participant_path_names_the_code_and_the_stage():
    code = "0b6f3c1e-5a7d-4c1b-9a2e-3f4d5e6a7b8c"

    assert participant_path(f"/p/{code}/threats/") == (code, "threats")
    assert participant_path("/join/ABCD2345/") is None
    assert participant_path(f"/p/{code}/diagrams/dfd.svg") is None
