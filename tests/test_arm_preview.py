"""Staff preview each arm's student pages without joining: nothing is stored, the pages are marked as a preview, and
staff who try the join link after all take part as simulated participants that do not block resetting a rehearsal."""

import random
import re
from io import StringIO
from pathlib import Path
from urllib.parse import urljoin

import pytest
from django.apps import apps
from django.core.cache import caches
from django.core.cache.utils import make_template_fragment_key
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from experiment import student_pages
from experiment.content import CACHE
from experiment.models import Experiment, LabSession, Participant, SessionStatus
from experiment.preview import preview_key
from experiment.services import sessions
from tests.helpers import consent_post

pytestmark = pytest.mark.django_db
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "kubernetes-pod-dfd.json"
EVERY_PAGE = ["consent", "entry", "training", "threats", "usefulness", "exit", "done"]
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_url(arm, page: str) -> str:
    return reverse("admin:experiment_experiment_preview_page", args=[arm.experiment_id, arm.pk, page])


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


@pytest.fixture
def replication(db) -> Experiment:
    """The shipped experiment: two arms, an entry and an exit questionnaire, real diagrams."""
    call_command("load_experiment", str(FIXTURE), stdout=StringIO())
    return Experiment.objects.get(slug="kubernetes-pod-dfd")


def test_every_page_of_each_arm_previews_without_writing_a_row(instructor, replication):
    client = logged_in(instructor)
    before = row_counts()
    statements = []
    for arm in replication.arms.all():
        for page in EVERY_PAGE:
            with CaptureQueriesContext(connection) as queries:
                shown = client.get(page_url(arm, page))
                assert shown.status_code == 200, (arm.slug, page)
                form = student_pages.read_page(shown.content.decode()).form
                if form is not None:
                    empty = client.post(page_url(arm, page), {})
                    assert empty.status_code in (200, 400), (arm.slug, page)
                    filled = student_pages.fill(page, form, random.Random(1), text="A comment.")
                    sent = client.post(page_url(arm, page), filled)
                    assert sent.status_code == 200, (arm.slug, page, sent.content.decode()[:3000])
                    assert "These answers would be taken." in sent.content.decode()
            statements += [query["sql"] for query in queries.captured_queries if WRITES.match(query["sql"])]
    assert statements == []
    assert row_counts() == before
    assert not Participant.objects.exists()


def test_a_preview_is_marked_as_one_and_names_its_arm(instructor, experiment):
    arm = experiment.arms.get(slug="dfd")
    content = logged_in(instructor).get(page_url(arm, "training")).content.decode()
    assert "<title>Preview: Training · ThreatLab</title>" in content
    assert '<nav class="alert alert-warning preview-bar" aria-label="Preview">' in content
    assert "Preview of the arm DFD" in content
    assert '<strong aria-current="page">Training</strong>' in content
    # The student's own page follows: its heading and its task button.
    assert "I have read the material: start the task" in content


def test_each_arm_shows_its_own_diagrams_and_only_those(instructor, experiment):
    client = logged_in(instructor)
    dfd_arm, control = experiment.arms.get(slug="dfd"), experiment.arms.get(slug="control")
    dfd_page = client.get(page_url(dfd_arm, "threats")).content.decode()
    control_page = client.get(page_url(control, "threats")).content.decode()
    assert 'src="../diagrams/dfd.svg"' in dfd_page
    assert 'src="../diagrams/dfd.svg"' not in control_page
    assert 'src="../diagrams/sequence.svg"' in control_page
    # The pages' relative addresses land on the preview's own diagram view, which shows the arm's diagrams only.
    own = client.get(urljoin(page_url(dfd_arm, "threats"), "../diagrams/dfd.svg"))
    assert own.status_code == 200 and own["Content-Type"].startswith("image/svg+xml")
    assert client.get(urljoin(page_url(control, "threats"), "../diagrams/dfd.svg")).status_code == 404


def test_an_empty_form_shows_its_errors_with_400_and_a_filled_one_links_the_next_page(instructor, experiment):
    client = logged_in(instructor)
    arm = experiment.arms.get(slug="control")
    empty = client.post(page_url(arm, "threats"), {})
    assert empty.status_code == 400
    assert "Please correct the following:" in empty.content.decode()
    assert "would be taken" not in empty.content.decode()
    form = student_pages.read_page(client.get(page_url(arm, "threats")).content.decode()).form
    sent = client.post(page_url(arm, "threats"), student_pages.fill("threats", form, random.Random(2)))
    assert sent.status_code == 200
    assert f'href="{page_url(arm, "usefulness")}">Next page: Usefulness</a>' in sent.content.decode()


def test_the_threats_come_in_the_scenarios_order_without_the_answer_key(instructor, experiment):
    content = logged_in(instructor).get(page_url(experiment.arms.first(), "threats")).content.decode()
    refs = re.findall(r"\d+\. (REAL-\d|FAKE-\d)</h2>", content)
    assert refs == ["REAL-1", "REAL-2", "FAKE-1", "FAKE-2"]
    assert "SECRET-RATIONALE" not in content


def test_a_preview_never_fills_a_block_that_students_read(instructor, experiment):
    arm = experiment.arms.get(slug="dfd")
    logged_in(instructor).get(page_url(arm, "training"))
    content = caches[CACHE]
    assert content.get(make_template_fragment_key("material", [experiment.content_key, arm.pk, "en"])) is None
    assert content.get(make_template_fragment_key("material", [preview_key(experiment.content_key), arm.pk, "en"]))


def test_the_preview_index_links_every_page_of_every_arm(instructor, experiment):
    response = logged_in(instructor).get(reverse("admin:experiment_experiment_preview", args=[experiment.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    for arm in experiment.arms.all():
        for page in ["consent", "training", "threats", "usefulness", "done"]:
            assert f'href="{page_url(arm, page)}"' in content
    assert "entry/" not in content, "the experiment has no entry questionnaire"


# Not named "page": pytest-playwright would take a test with that argument for a browser test.
@pytest.mark.parametrize("page_name", ["entry", "exit", "nothing"])
def test_a_page_the_experiment_lacks_is_404(instructor, experiment, page_name):
    assert logged_in(instructor).get(page_url(experiment.arms.first(), page_name)).status_code == 404


def test_an_arm_of_another_experiment_is_404(instructor, experiment, replication):
    other_arm = replication.arms.first()
    url = reverse("admin:experiment_experiment_preview_page", args=[experiment.pk, other_arm.pk, "training"])
    assert logged_in(instructor).get(url).status_code == 404


def test_staff_without_the_permission_get_403_and_anonymous_users_log_in(plain_staff, experiment, client):
    arm = experiment.arms.first()
    index = reverse("admin:experiment_experiment_preview", args=[experiment.pk])
    for url in (index, page_url(arm, "training"), urljoin(page_url(arm, "training"), "../diagrams/sequence.svg")):
        assert logged_in(plain_staff).get(url).status_code == 403
        assert client.get(url)["Location"].startswith("/admin/login/")


def test_a_preview_takes_get_and_post_only(instructor, experiment):
    client = logged_in(instructor)
    arm = experiment.arms.first()
    assert client.put(page_url(arm, "training")).status_code == 405
    assert client.post(reverse("admin:experiment_experiment_preview", args=[experiment.pk])).status_code == 405


def test_the_session_and_the_experiment_pages_link_the_preview(instructor, researcher, lab):
    preview = reverse("admin:experiment_experiment_preview", args=[lab.experiment_id])
    session_page = logged_in(instructor).get(reverse("admin:experiment_labsession_change", args=[lab.pk]))
    assert f'href="{preview}"' in session_page.content.decode()
    experiment_page = logged_in(researcher).get(reverse("admin:experiment_experiment_change", args=[lab.experiment_id]))
    assert f'href="{preview}"' in experiment_page.content.decode()


def test_staff_trying_the_join_link_are_simulated_and_the_rehearsal_still_resets(instructor, lab):
    staff_browser = logged_in(instructor)
    consent = staff_browser.get(reverse("experiment:consent", args=[lab.join_code])).content.decode()
    assert reverse("admin:experiment_experiment_preview", args=[lab.experiment_id]) in consent
    tried = consent_post(staff_browser, lab.join_code)
    assert tried.is_simulated
    assert sessions.reset_rehearsal(lab) >= 1
    assert not Participant.objects.exists()


def test_staff_trying_the_decline_button_leave_the_declined_count_alone(instructor, lab):
    staff_browser = logged_in(instructor)
    consent = reverse("experiment:consent", args=[lab.join_code])
    token = staff_browser.get(consent).context["form"]["entry_token"].value()
    response = staff_browser.post(consent, {"entry_token": token, "decision": "decline"})
    assert response["Location"] == reverse("experiment:declined")
    lab.refresh_from_db()
    assert lab.declined_count == 0


def test_staff_may_try_a_draft_session_before_students_can(instructor, experiment):
    draft = sessions.create_session(experiment)
    assert consent_post(logged_in(instructor), draft.join_code).is_simulated
    student = Client().get(reverse("experiment:consent", args=[draft.join_code]))
    assert student.status_code == 403


def test_a_student_joining_sees_no_staff_notice_and_is_real(client, lab):
    consent = client.get(reverse("experiment:consent", args=[lab.join_code])).content.decode()
    assert "preview" not in consent.lower()
    assert not consent_post(client, lab.join_code).is_simulated
    assert LabSession.objects.get(pk=lab.pk).participants.real().count() == 1


def test_the_threats_preview_works_while_the_experiment_has_sessions(instructor, experiment):
    # An arm preview's participant has no session: its threats are read by their ids, not through a session.
    LabSession.objects.create(experiment=experiment, join_code="HASONE23", status=SessionStatus.OPEN)
    client = logged_in(instructor)
    arm = experiment.arms.first()

    assert client.post(page_url(arm, "threats"), {}).status_code == 400
    form = student_pages.read_page(client.get(page_url(arm, "threats")).content.decode()).form
    assert (
        client.post(page_url(arm, "threats"), student_pages.fill("threats", form, random.Random(3))).status_code == 200
    )
