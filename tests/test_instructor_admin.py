"""Instructors run sessions from admin: roles, lifecycle, join sheet, monitor, codes, data deletion."""

import re
import uuid
from datetime import timedelta

import numpy as np
import pytest
import zxingcpp
from django.core.exceptions import ValidationError
from django.db import connection
from django.forms import modelform_factory
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from experiment.models import AllocationBlock, Answer, Experiment, LabSession, Participant, SessionStatus
from experiment.monitor import IDLE_MINUTES
from experiment.services import participation, sessions
from tests.helpers import consent_post, threat_answers, url, usefulness_answers

pytestmark = pytest.mark.django_db


def admin_url(name: str, session: LabSession) -> str:
    return reverse(f"admin:experiment_labsession_{name}", args=[session.pk])


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_roles_exist_with_their_permissions(instructor, researcher):
    assert instructor.has_perm("experiment.run_session")
    assert instructor.has_perm("experiment.add_labsession")
    assert not instructor.has_perm("threats.view_threat"), "instructors never see the answer key"
    assert not instructor.has_perm("experiment.view_participant"), "nor individual answers"
    assert not instructor.has_perm("experiment.delete_session_data")
    for perm in (
        "threats.view_threat",
        "experiment.view_participant",
        "experiment.view_analysis",
        "experiment.export_results",
        "experiment.delete_session_data",
        "experiment.run_session",
    ):
        assert researcher.has_perm(perm), perm


@pytest.mark.parametrize("name", ["join_sheet", "monitor", "monitor_data", "codes", "delete_data"])
def test_staff_without_the_permission_get_403(plain_staff, lab, name):
    assert logged_in(plain_staff).get(admin_url(name, lab)).status_code == 403


@pytest.mark.parametrize("name", ["join_sheet", "monitor", "codes"])
def test_anonymous_users_are_sent_to_log_in(client, lab, name):
    response = client.get(admin_url(name, lab))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_instructors_cannot_open_the_threats_or_participants(instructor, lab):
    client = logged_in(instructor)
    assert client.get(reverse("admin:threats_threat_changelist")).status_code == 403
    assert client.get(reverse("admin:experiment_participant_changelist")).status_code == 403
    assert client.get(admin_url("delete_data", lab)).status_code == 403


def test_an_instructor_creates_a_session_with_a_generated_code(instructor, experiment):
    response = logged_in(instructor).post(
        reverse("admin:experiment_labsession_add"),
        {
            "experiment": experiment.pk,
            "label": "Tuesday",
            "status": "draft",
            "closes_at_0": "",
            "closes_at_1": "",
            "capacity": "40",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    session = LabSession.objects.get()
    assert re.fullmatch(r"[ACDEFGHJKMNPQRTUVWXY34679]{8}", session.join_code)
    assert session.capacity == 40 and session.status == SessionStatus.DRAFT


def test_open_and_close_buttons_move_the_session(instructor, lab):
    client = logged_in(instructor)
    for status in ("closed", "open", "closed"):
        response = client.post(admin_url("set_status", lab), {"status": status})
        assert response.status_code == 302
        lab.refresh_from_db()
        assert lab.status == status


def test_an_unknown_status_changes_nothing(instructor, lab):
    response = logged_in(instructor).post(admin_url("set_status", lab), {"status": "paused"}, follow=True)
    assert b"Unknown status" in response.content
    lab.refresh_from_db()
    assert lab.status == SessionStatus.OPEN


def test_status_changes_need_a_post(instructor, lab):
    assert logged_in(instructor).get(admin_url("set_status", lab)).status_code == 405


def test_the_open_and_close_actions_work_on_many_sessions(instructor, experiment):
    labs = [sessions.create_session(experiment) for _ in range(3)]
    client = logged_in(instructor)
    changelist = reverse("admin:experiment_labsession_changelist")
    client.post(changelist, {"action": "open_sessions", "_selected_action": [s.pk for s in labs]})
    assert set(LabSession.objects.values_list("status", flat=True)) == {"open"}
    client.post(changelist, {"action": "close_sessions", "_selected_action": [s.pk for s in labs]})
    assert set(LabSession.objects.values_list("status", flat=True)) == {"closed"}


def qr_payload(svg: str) -> str:
    """Decode segno's SVG path (rows of 'h' runs) back into modules and read it with a real QR decoder."""
    path = re.search(r'<path[^>]*\bd="([^"]+)"', svg).group(1)
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    grid = np.full((size, size), 255, dtype=np.uint8)
    x = y = 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:[ ,](-?[\d.]+))?", path):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            grid[int(y), int(x) : int(x + float(a))] = 0
            x += float(a)
    image = np.kron(grid, np.ones((8, 8), dtype=np.uint8))
    return zxingcpp.read_barcode(image).text


def test_the_join_sheet_shows_the_code_and_a_qr_code_of_the_join_url(instructor, lab):
    response = logged_in(instructor).get(admin_url("join_sheet", lab))
    assert response.status_code == 200
    content = response.content.decode()
    join_url = f"http://testserver/join/{lab.join_code}/"
    assert join_url in content
    assert f"{lab.join_code[:4]}&#8239;{lab.join_code[4:]}" in content
    assert qr_payload(content) == join_url


def test_the_join_sheets_qr_code_has_a_viewbox_and_no_size_of_its_own(instructor, lab):
    svg = re.search(r"<svg[^>]*>", logged_in(instructor).get(admin_url("join_sheet", lab)).content.decode()).group(0)
    assert re.search(r'viewBox="0 0 \d+ \d+"', svg)
    assert "width=" not in svg and "height=" not in svg


def test_a_draft_sessions_warning_comes_first_on_the_join_sheet(instructor, experiment):
    draft = sessions.create_session(experiment)
    content = logged_in(instructor).get(admin_url("join_sheet", draft)).content.decode()
    warning = content.index("This session is draft: students cannot join until it is open.")
    assert warning < content.index("<h1>") < content.index('class="code"')


def test_an_open_session_on_a_network_address_has_no_warning(instructor, lab):
    content = logged_in(instructor).get(admin_url("join_sheet", lab)).content.decode()
    assert 'class="warning"' not in content


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:8000", "[::1]:8000"])
def test_a_join_sheet_opened_on_this_computer_only_says_phones_cannot_open_it(instructor, lab, host):
    content = logged_in(instructor).get(admin_url("join_sheet", lab), HTTP_HOST=host).content.decode()
    assert "phones cannot open it" in content
    assert "make run-lan" in content


def test_the_join_sheet_shows_the_participants_title_not_the_research_title(instructor, lab):
    Experiment.objects.filter(pk=lab.experiment_id).update(title="Does a DFD help?", participant_title="A mini lab")
    content = logged_in(instructor).get(admin_url("join_sheet", lab)).content.decode()
    assert "<h1>A mini lab</h1>" in content
    assert "DFD" not in content


def test_the_monitor_counts_participants_per_stage_and_arm(instructor, lab, make_participant):
    participants = [make_participant() for _ in range(4)]
    participation.start_threats(participants[0])
    make_participant(is_simulated=True)
    data = logged_in(instructor).get(admin_url("monitor_data", lab)).json()
    assert data["stages"] == ["training", "threats", "usefulness", "done"]
    assert data["arms"] == ["DFD", "Control"]
    assert sum(sum(row) for row in data["counts"]) == 5
    assert sum(row[1] for row in data["counts"]) == 1
    assert len(data["participants"]) == 5
    assert sum(p["bot"] for p in data["participants"]) == 1
    page = logged_in(instructor).get(admin_url("monitor", lab))
    assert page.status_code == 200
    assert b"monitor.js" in page.content


def test_the_monitor_totals_each_stage_and_each_arm(instructor, lab, make_participant):
    participants = [make_participant() for _ in range(5)]
    for participant in participants[:2]:
        participation.start_threats(participant)
    data = logged_in(instructor).get(admin_url("monitor_data", lab)).json()
    assert data["stage_totals"] == [3, 2, 0, 0]
    assert data["arm_totals"] == [sum(row) for row in data["counts"]]
    assert sum(data["arm_totals"]) == data["total"] == 5
    page = logged_in(instructor).get(admin_url("monitor", lab)).content.decode()
    assert '<tfoot><tr><th scope="row">Total</th><td class="total">3</td><td class="total">2</td>' in page
    assert '<td class="total">5</td></tr></tfoot>' in page


def test_participants_without_a_step_for_15_minutes_are_marked_idle_in_words(instructor, lab, make_participant):
    idle, working, finished = make_participant(), make_participant(), make_participant()
    Participant.objects.filter(pk=finished.pk).update(stage="done")
    long_ago = timezone.now() - timedelta(minutes=IDLE_MINUTES, seconds=1)
    Participant.objects.filter(pk__in=[idle.pk, finished.pk]).update(last_activity_at=long_ago)
    data = logged_in(instructor).get(admin_url("monitor_data", lab)).json()
    assert data["idle_minutes"] == 15
    assert {p["code"]: p["idle"] for p in data["participants"]} == {
        str(idle.code)[:8]: True,
        str(working.code)[:8]: False,
        str(finished.code)[:8]: False,
    }
    assert data["idle"] == 1
    page = logged_in(instructor).get(admin_url("monitor", lab)).content.decode()
    assert page.count('<tr class="idle">') == 1
    assert page.count('<strong class="idle-flag">idle</strong>') == 1
    assert "no step finished for 15 minutes or more" in page


def test_the_monitor_shows_times_relative_and_no_raw_utc_timestamp(instructor, lab, make_participant):
    participant = make_participant()
    Participant.objects.filter(pk=participant.pk).update(last_activity_at=timezone.now() - timedelta(minutes=2))
    data = logged_in(instructor).get(admin_url("monitor_data", lab)).json()
    # ISO 8601 in UTC for the script, with the server's time to count from.
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", data["participants"][0]["last"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", data["now"])
    page = logged_in(instructor).get(admin_url("monitor", lab)).content.decode()
    assert re.search(r'<time datetime="[^"]+" title="[^"]+">2\xa0minutes ago</time>', page)
    shown = re.sub(r'<script id="monitor-initial".*?</script>|datetime="[^"]*"', "", page, flags=re.DOTALL)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", shown)


def test_the_monitor_uses_a_constant_number_of_queries_for_1000_participants(instructor, lab):
    arms = list(lab.experiment.arms.values_list("id", flat=True))
    block = AllocationBlock.objects.create(session=lab, number=1, arm_sequence=[arms[i % 2] for i in range(1000)])
    client = logged_in(instructor)
    # A worker reads an experiment's content once (experiment/content.py); count from the second request on.
    client.get(admin_url("monitor_data", lab))
    counts = []
    for start, stop in ((0, 1), (1, 1000)):
        Participant.objects.bulk_create(
            Participant(
                entry_token=uuid.uuid4(),
                session=lab,
                arm_id=arms[i % 2],
                block=block,
                block_position=i,
                threat_order=[],
            )
            for i in range(start, stop)
        )
        with CaptureQueriesContext(connection) as data_queries:
            data = client.get(admin_url("monitor_data", lab)).json()
        with CaptureQueriesContext(connection) as page_queries:
            assert client.get(admin_url("monitor", lab)).status_code == 200
        counts.append((len(data_queries), len(page_queries)))
    assert len(data["participants"]) == 1000
    assert counts[0] == counts[1], "the query count does not grow with the participants"
    assert max(counts[1]) <= 10


def test_a_finished_student_gets_a_completion_code_the_instructor_can_check(instructor, lab):
    student = Client()
    participant = consent_post(student, lab.join_code)
    student.post(url("training", participant))
    student.post(url("threats", participant), threat_answers(participant))
    student.post(url("usefulness", participant), usefulness_answers(participant))
    page = student.get(url("done", participant)).content.decode()
    code = re.search(r'id="completion-code">([A-Z0-9-]+)<', page).group(1)
    response = logged_in(instructor).post(admin_url("codes", lab), {"codes": f"{code}\nAAAAA-BBBBB\n{code.lower()}"})
    assert re.findall(r"<td>(valid|not from this session|handed in twice)</td>", response.content.decode()) == [
        "valid",
        "not from this session",
        "handed in twice",
    ]
    assert b"applicable" not in response.content


def test_an_empty_code_check_is_refused(instructor, lab):
    response = logged_in(instructor).post(admin_url("codes", lab), {"codes": ""})
    assert b"This field is required" in response.content


def test_deleting_a_sessions_data_names_what_goes_then_deletes_it(researcher, lab, make_participant):
    participant = make_participant()
    participation.start_threats(participant)
    participation.submit_answers(
        participant, [participation.ThreatAnswer(t, i, "applicable") for i, t in enumerate(participant.threat_order, 1)]
    )
    client = logged_in(researcher)
    page = client.get(admin_url("delete_data", lab)).content.decode()
    assert "1 participant(s)" in page and "4 answer(s)" in page
    response = client.post(admin_url("delete_data", lab), {"confirm": "WRONG"}, follow=True)
    assert b"nothing was deleted" in response.content
    assert Participant.objects.count() == 1
    client.post(admin_url("delete_data", lab), {"confirm": lab.join_code.lower()})
    assert Participant.objects.count() == 0 and Answer.objects.count() == 0
    lab.refresh_from_db()
    assert lab.status == SessionStatus.CLOSED
    assert LabSession.objects.filter(pk=lab.pk).exists()


def test_researchers_see_a_sessions_participants_read_only_and_instructors_do_not(
    researcher, instructor, lab, make_participant
):
    participant = make_participant()
    change = reverse("admin:experiment_labsession_change", args=[lab.pk])
    page = logged_in(researcher).get(change).content.decode()
    assert str(participant.code) in page and participant.arm.name in page
    assert 'name="participants-0-stage"' not in page, "read-only: no input to change a participant"
    assert str(participant.code) not in logged_in(instructor).get(change).content.decode()
    response = logged_in(instructor).post(
        change,
        {
            "experiment": lab.experiment_id,
            "label": "Renamed",
            "status": "open",
            "closes_at_0": "",
            "closes_at_1": "",
            "capacity": "",
        },
    )
    assert response.status_code == 302
    lab.refresh_from_db()
    assert lab.label == "Renamed"


# -- a session's experiment ------------------------------------------------------------------------------------------


@pytest.fixture
def other_experiment(experiment) -> Experiment:
    return Experiment.objects.create(
        slug="other-exp", title="Other experiment", scenario=experiment.scenario, hypothesis=experiment.hypothesis
    )


def change_post(user, session: LabSession, experiment: Experiment, label: str = "Renamed"):
    return logged_in(user).post(
        admin_url("change", session),
        {
            "experiment": experiment.pk,
            "label": label,
            "status": session.status,
            "closes_at_0": "",
            "closes_at_1": "",
            "capacity": "",
            # The participants inline's management form, which researchers' change page carries.
            "participants-TOTAL_FORMS": str(session.participants.count()),
            "participants-INITIAL_FORMS": str(session.participants.count()),
        },
    )


def test_an_instructor_cannot_move_a_session_to_another_experiment(instructor, lab, other_experiment):
    page = logged_in(instructor).get(admin_url("change", lab)).content.decode()
    assert 'name="experiment"' not in page and "Mini experiment" in page
    response = change_post(instructor, lab, other_experiment)
    assert response.status_code == 302
    lab.refresh_from_db()
    assert lab.experiment.slug == "mini-exp" and lab.label == "Renamed"


def test_an_instructor_still_picks_the_experiment_of_a_new_session(instructor, experiment):
    page = logged_in(instructor).get(reverse("admin:experiment_labsession_add")).content.decode()
    assert '<select name="experiment"' in page


def test_a_researcher_moves_a_session_nobody_has_joined(researcher, lab, other_experiment):
    assert '<select name="experiment"' in logged_in(researcher).get(admin_url("change", lab)).content.decode()
    assert change_post(researcher, lab, other_experiment).status_code == 302
    lab.refresh_from_db()
    assert lab.experiment == other_experiment


@pytest.mark.parametrize("is_simulated", [False, True], ids=["student", "rehearsal bot"])
def test_nobody_moves_a_session_once_participants_have_joined(
    researcher, lab, make_participant, other_experiment, is_simulated
):
    participant = make_participant(is_simulated=is_simulated)
    assert 'name="experiment"' not in logged_in(researcher).get(admin_url("change", lab)).content.decode()
    assert change_post(researcher, lab, other_experiment).status_code == 302
    lab.refresh_from_db()
    participant.refresh_from_db()
    assert lab.experiment.slug == "mini-exp" and lab.label == "Renamed"
    assert participant.session == lab and participant.arm.experiment == lab.experiment


def test_a_session_with_participants_fails_validation_with_another_experiment(lab, make_participant, other_experiment):
    moved = LabSession.objects.get(pk=lab.pk)
    moved.experiment = other_experiment
    moved.full_clean()  # nobody has joined yet
    make_participant()
    with pytest.raises(ValidationError) as refused:
        moved.full_clean()
    assert "its experiment cannot change" in refused.value.message_dict["experiment"][0]
    form = modelform_factory(LabSession, fields=["experiment", "label", "status"])(
        {"experiment": other_experiment.pk, "label": "x", "status": "open"}, instance=LabSession.objects.get()
    )
    assert not form.is_valid() and "experiment" in form.errors
    assert LabSession.objects.get().experiment.slug == "mini-exp"
