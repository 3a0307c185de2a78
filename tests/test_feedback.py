"""Personal feedback: invisible before release, visible after it to the participant's own link only; release covers
the chosen closed sessions only and is undone; the class view shows aggregates only, and only to those allowed."""

import importlib

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.forms.models import model_to_dict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from experiment.admin import ExperimentForm
from experiment.content import renew_key
from experiment.models import Answer, Choice, LabSession, Participant, SessionStatus, Stage
from experiment.services import feedback, sessions
from tests.conftest import staff_user
from threats.models import Threat

pytestmark = pytest.mark.django_db


def finish(participant: Participant, applicable: set[str] | None = None) -> Participant:
    """The participant answered every threat (``applicable``: the refs marked applicable; default the real ones)."""
    threats = Threat.objects.in_bulk(participant.threat_order)
    for position, threat_id in enumerate(participant.threat_order, start=1):
        threat = threats[threat_id]
        marked = threat.is_real if applicable is None else threat.ref in applicable
        choice = Choice.APPLICABLE if marked else Choice.NOT_APPLICABLE
        Answer.objects.create(participant=participant, threat=threat, position=position, choice=choice)
    Participant.objects.filter(pk=participant.pk).update(stage=Stage.DONE)
    participant.refresh_from_db()
    return participant


def close(session: LabSession) -> LabSession:
    LabSession.objects.filter(pk=session.pk).update(status=SessionStatus.CLOSED)
    session.refresh_from_db()
    return session


def feedback_page(participant: Participant, client: Client | None = None):
    return (client or Client()).get(reverse("experiment:feedback", args=[participant.code]))


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def release_url(session: LabSession) -> str:
    return reverse("admin:experiment_labsession_feedback", args=[session.pk])


@pytest.fixture
def finished_lab(lab, make_participant):
    """The lab, closed, with one participant who marked REAL-1 and FAKE-1 applicable and nine who answered right."""
    me = finish(make_participant(), {"REAL-1", "FAKE-1"})
    for _ in range(9):
        finish(make_participant())
    close(lab)
    return lab, me


# -- the participant's page -------------------------------------------------------------------------------------------


def test_before_release_the_feedback_link_says_when_it_comes_and_shows_no_key(finished_lab):
    _lab, me = finished_lab
    response = feedback_page(me)
    html = response.content.decode()
    assert response.status_code == 200
    assert "not released yet" in html
    for secret in ("SECRET-RATIONALE", "DEBRIEF", "Fabricated on purpose", "A real threat"):
        assert secret not in html


def test_after_release_the_participant_sees_their_answers_beside_the_key_and_their_scores(finished_lab, instructor):
    lab, me = finished_lab
    feedback.release([lab], instructor)
    response = feedback_page(me)
    html = response.content.decode()
    assert response.status_code == 200
    assert "DEBRIEF" in html
    assert "SECRET-RATIONALE-FAKE-1" in html and "SECRET-RATIONALE-REAL-2" in html
    assert response.context["feedback"].tp == 1 and response.context["feedback"].fp == 1
    assert response.context["feedback"].precision == 0.5 and response.context["feedback"].recall == 0.5
    assert '<dd id="score-precision">0.50</dd>' in html
    assert '<dd id="score-recall">0.50</dd>' in html


def test_the_standing_shows_the_sessions_spread_from_ten_finished_and_never_anyone_elses_answers(
    finished_lab, instructor
):
    lab, me = finished_lab
    feedback.release([lab], instructor)
    response = feedback_page(me)
    html = response.content.decode()
    boxes = {box.label: box for box in response.context["feedback"].boxes}
    # Nine answered every real threat (recall 1) and me half of them: the lower quarter is 1 too.
    assert boxes["recall"].n == 10 and boxes["recall"].own == 0.5 and boxes["recall"].minimum == 0.5
    assert boxes["recall"].median == 1.0
    assert '<svg class="box-plot"' in html and 'aria-labelledby="standing-recall"' in html
    others = Participant.objects.exclude(pk=me.pk)
    assert not any(str(other.code) in html for other in others)


def test_below_ten_finished_the_standing_is_not_shown(lab, make_participant, instructor):
    me = finish(make_participant())
    for _ in range(8):
        finish(make_participant())
    make_participant(is_simulated=True)  # bots are left out, finished or not
    finish(make_participant(is_simulated=True))
    feedback.release([close(lab)], instructor)
    response = feedback_page(me)
    assert response.context["feedback"].boxes == []
    assert 'id="standing-too-few"' in response.content.decode()


def test_a_participant_still_at_work_is_sent_back_to_their_stage(lab, make_participant, instructor):
    working = make_participant()
    close(lab)
    feedback.release([lab], instructor)
    response = feedback_page(working)
    assert response.status_code == 302
    assert response["Location"] == reverse("experiment:training", args=[working.code])


def test_a_participant_of_another_session_sees_only_their_own_session(finished_lab, experiment, instructor):
    lab, me = finished_lab
    other = close(sessions.create_session(experiment, label="Later group"))
    feedback.release([other], instructor)
    # The other session is released; this one is not: my own link still shows nothing.
    assert "not released yet" in feedback_page(me).content.decode()


def test_an_unknown_participant_code_is_404():
    response = Client().get(reverse("experiment:feedback", args=["5b2f1f0e-8f1a-4c33-9a53-1f1d3f0f3a11"]))
    assert response.status_code == 404


def test_the_feedback_page_takes_no_post(finished_lab):
    _lab, me = finished_lab
    assert Client().post(reverse("experiment:feedback", args=[me.code])).status_code == 405


def test_reopening_a_released_session_hides_its_feedback(finished_lab, instructor):
    lab, me = finished_lab
    feedback.release([lab], instructor)
    LabSession.objects.filter(pk=lab.pk).update(status=SessionStatus.OPEN)
    assert "not released yet" in feedback_page(me).content.decode()


def thank_you_page(participant) -> str:
    """The thank-you page as the participant sees it once they typed their participant code (opened from the
    address alone, it shows nothing until then)."""
    client = Client()
    done = reverse("experiment:done", args=[participant.code])
    assert client.post(done, {"participant_code": participant.short_code}).status_code == 302
    return client.get(done).content.decode()


def test_the_thank_you_page_says_feedback_will_follow_and_links_the_participants_own_page(finished_lab):
    _lab, me = finished_lab
    html = thank_you_page(me)
    assert "Feedback will follow" in html
    assert reverse("experiment:feedback", args=[me.code]) in html
    assert "DEBRIEF" not in html


def test_an_experiment_may_show_the_debrief_on_the_thank_you_page_at_once(finished_lab, experiment):
    _lab, me = finished_lab
    experiment.debrief_shown = "at_once"
    experiment.save()
    renew_key([experiment.pk])
    html = thank_you_page(me)
    assert "DEBRIEF" in html and "SECRET-RATIONALE" not in html


def test_the_released_feedback_page_runs_a_constant_handful_of_queries(finished_lab, instructor, make_participant):
    lab, me = finished_lab
    feedback.release([lab], instructor)
    feedback_page(me)
    with CaptureQueriesContext(connection) as queries:
        assert feedback_page(me).status_code == 200
    assert len(queries) <= 6, [q["sql"] for q in queries]


# -- releasing --------------------------------------------------------------------------------------------------------


def test_release_covers_the_chosen_sessions_only_and_undoing_hides_it_again(experiment, make_participant, instructor):
    first = sessions.create_session(experiment, label="Monday", open_now=True)
    second = sessions.create_session(experiment, label="Tuesday", open_now=True)
    mine, theirs = finish(make_participant(first)), finish(make_participant(second))
    close(first), close(second)
    client = logged_in(instructor)

    response = client.post(release_url(first), {"sessions": [first.pk]})
    assert response.status_code == 302 and response["Location"] == release_url(first)
    first.refresh_from_db(), second.refresh_from_db()
    assert first.feedback_released_at is not None and second.feedback_released_at is None
    assert "SECRET-RATIONALE" in feedback_page(mine).content.decode()
    assert "SECRET-RATIONALE" not in feedback_page(theirs).content.decode()

    response = client.post(reverse("admin:experiment_labsession_feedback_withdraw", args=[first.pk]))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.feedback_released_at is None
    assert "SECRET-RATIONALE" not in feedback_page(mine).content.decode()
    messages = list(LogEntry.objects.filter(object_id=str(first.pk)).values_list("change_message", flat=True))
    assert sorted(messages) == sorted([feedback.RELEASED, feedback.WITHDRAWN])


def test_a_session_page_cannot_release_another_session(experiment, instructor):
    first = close(sessions.create_session(experiment, label="Monday"))
    second = close(sessions.create_session(experiment, label="Tuesday"))
    response = logged_in(instructor).post(release_url(first), {"sessions": [second.pk]})
    assert response.status_code == 400
    assert not LabSession.objects.filter(feedback_released_at__isnull=False).exists()


def test_release_for_the_experiment_covers_the_sessions_closed_then_and_not_later_ones(experiment, instructor):
    closed_one = close(sessions.create_session(experiment, label="Monday"))
    still_open = sessions.create_session(experiment, label="Tuesday", open_now=True)
    url = reverse("admin:experiment_experiment_feedback", args=[experiment.pk])
    client = logged_in(instructor)
    page = client.get(url)
    assert list(page.context["form"].fields["sessions"].queryset) == [closed_one]
    assert client.post(url, {"sessions": [closed_one.pk]}).status_code == 302
    later = close(sessions.create_session(experiment, label="Wednesday"))
    close(still_open)
    released = set(LabSession.objects.filter(feedback_released_at__isnull=False).values_list("pk", flat=True))
    assert released == {closed_one.pk}
    assert later.pk not in released


def test_an_open_session_cannot_be_released(lab, instructor):
    response = logged_in(instructor).post(release_url(lab), {"sessions": [lab.pk]})
    assert response.status_code == 400
    lab.refresh_from_db()
    assert lab.feedback_released_at is None


def test_students_still_at_work_need_a_confirmation_that_counts_them(lab, make_participant, instructor):
    make_participant(), make_participant()
    finish(make_participant())
    close(lab)
    client = logged_in(instructor)
    response = client.post(release_url(lab), {"sessions": [lab.pk]})
    assert response.status_code == 400
    assert "Students who have not finished: 2." in response.content.decode()
    lab.refresh_from_db()
    assert lab.feedback_released_at is None
    response = client.post(release_url(lab), {"sessions": [lab.pk], "release_anyway": "on"})
    assert response.status_code == 302
    lab.refresh_from_db()
    assert lab.feedback_released_at is not None


def test_only_staff_with_the_permission_release(lab, plain_staff):
    close(lab)
    client = logged_in(plain_staff)
    assert client.get(release_url(lab)).status_code == 403
    assert client.post(release_url(lab), {"sessions": [lab.pk]}).status_code == 403
    assert client.post(reverse("admin:experiment_labsession_feedback_withdraw", args=[lab.pk])).status_code == 403
    url = reverse("admin:experiment_experiment_feedback", args=[lab.experiment_id])
    assert client.post(url, {"sessions": [lab.pk]}).status_code == 403
    lab.refresh_from_db()
    assert lab.feedback_released_at is None


def test_undo_takes_only_a_post(finished_lab, instructor):
    lab, _me = finished_lab
    url = reverse("admin:experiment_labsession_feedback_withdraw", args=[lab.pk])
    assert logged_in(instructor).get(url).status_code == 405


# -- the class view ---------------------------------------------------------------------------------------------------


def class_url(session: LabSession) -> str:
    return reverse("admin:experiment_labsession_class_results", args=[session.pk])


def test_the_class_view_shows_the_share_per_threat_and_no_individual_data(finished_lab, researcher, experiment):
    lab, me = finished_lab
    experiment.participant_title = "A small system"
    experiment.save()
    response = logged_in(researcher).get(class_url(lab))
    html = response.content.decode()
    assert response.status_code == 200
    shares = {row.threat.ref: row.share for row in response.context["shares"]}
    assert shares == {"REAL-1": 1.0, "REAL-2": 0.9, "FAKE-1": 0.1, "FAKE-2": 0.0}
    for participant in Participant.objects.all():
        assert str(participant.code) not in html
    assert "SECRET-RATIONALE" not in html
    assert "A small system" in html and "Mini experiment" not in html, "the participants' title, not the research one"


def test_the_class_view_needs_ten_finished(lab, make_participant, researcher):
    for _ in range(9):
        finish(make_participant())
    response = logged_in(researcher).get(class_url(lab))
    assert response.context["shares"] == [] and 'id="too-few"' in response.content.decode()
    assert "REAL-1" not in response.content.decode()


def test_instructors_see_the_class_view_only_after_release(finished_lab, instructor):
    lab, _me = finished_lab
    client = logged_in(instructor)
    assert client.get(class_url(lab)).status_code == 403
    feedback.release([lab], instructor)
    assert client.get(class_url(lab)).status_code == 200


def test_the_class_view_is_refused_to_staff_without_either_permission(finished_lab, plain_staff):
    lab, _me = finished_lab
    assert logged_in(plain_staff).get(class_url(lab)).status_code == 403


def test_the_class_view_runs_a_constant_handful_of_queries(finished_lab, researcher, django_assert_max_num_queries):
    lab, _me = finished_lab
    client = logged_in(researcher)
    client.get(class_url(lab))
    with django_assert_max_num_queries(8):
        client.get(class_url(lab))


# -- the permission migration -----------------------------------------------------------------------------------------


def test_the_migration_gives_the_release_permission_to_instructors_and_researchers(db):
    migration = importlib.import_module("experiment.migrations.0016_release_feedback_permission")
    for group in Group.objects.filter(name__in=["Instructor", "Researcher"]):
        group.permissions.clear()
    # The models as the migration sees them: create_permissions marks the app configs it is given, and the project's
    # own would then be skipped when a later test's flush recreates the permissions.
    state = MigrationLoader(connection).project_state(("experiment", "0016_release_feedback_permission"))
    migration.give_permissions(state.apps, None)
    for name in ("Instructor", "Researcher"):
        codenames = set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))
        assert "release_feedback" in codenames, name
    researcher = set(Group.objects.get(name="Researcher").permissions.values_list("codename", flat=True))
    assert {"change_informationsheet", "view_consentstatement"} <= researcher
    instructor = staff_user("teacher", "Instructor")
    assert instructor.has_perm("experiment.release_feedback")
    assert not instructor.has_perm("threats.view_threat"), "instructors still never see the key"


def test_a_debrief_saved_in_the_admin_is_cleaned_like_a_loaded_one(experiment, db):

    data = model_to_dict(experiment, fields=ExperimentForm._meta.fields)
    data |= {
        "debrief_html": '<p onclick="x()">Real question</p><script>alert(1)</script>',
        "translations": '{"nl": {"debrief_html": "<p>Echt</p><script>alert(1)</script>"}}',
        "strata": "{}",
    }
    form = ExperimentForm(data, instance=experiment)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["debrief_html"] == "<p>Real question</p>"
    assert form.cleaned_data["translations"]["nl"]["debrief_html"] == "<p>Echt</p>"
