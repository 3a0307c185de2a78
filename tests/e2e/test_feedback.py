"""The study as a student and an instructor meet it in a real browser: the information sheet and its consent
statements (every one required here), the lab, the thank-you page that says feedback will follow, the release by the
instructor, and the student's feedback; axe-core finds no violation on any of these pages, and none scrolls sideways
at 320 px."""

import random
import re
import uuid

import pytest
from django.db import transaction
from playwright.sync_api import Page, expect

from experiment.models import Answer, Choice, ConsentStatement, Participant, Stage
from experiment.services import participation
from experiment.services.allocation import allocate
from tests.e2e.conftest import AXE_JS, SCREENSHOTS, collect_console_errors, horizontal_overflow, live_db
from tests.e2e.flow import STATEMENTS, take_the_lab_with_the_mouse
from tests.e2e.test_instructor import log_in
from threats.models import Threat

pytestmark = [pytest.mark.e2e, live_db]

SIZES = {"1366x768": {"width": 1366, "height": 768}, "390x844": {"width": 390, "height": 844}}


def classmates_finish(session, n: int) -> None:
    """``n`` classmates who took the lab, each judging a threat right three times in four (a fixed seed), so that the
    session's spread is shown."""
    threats = list(Threat.objects.filter(scenario__experiments__sessions=session))
    arm_ids = list(session.experiment.arms.values_list("pk", flat=True))
    rng = random.Random(18)
    for _ in range(n):
        classmate = participation.enrol(session, uuid.uuid4())
        with transaction.atomic():  # past the entry questionnaire: an arm drawn as the service draws it
            Participant.objects.filter(pk=classmate.pk).update(**allocate(session.pk, "", arm_ids, random.Random()))
        Answer.objects.bulk_create(
            Answer(
                participant=classmate,
                threat=threat,
                position=position,
                choice=Choice.APPLICABLE if threat.is_real == (rng.random() < 0.75) else Choice.NOT_APPLICABLE,
            )
            for position, threat in enumerate(threats, start=1)
        )
        Participant.objects.filter(pk=classmate.pk).update(stage=Stage.DONE)


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{size}.png"), full_page=True)
    page.set_viewport_size(SIZES["1366x768"])


def test_consent_the_lab_release_and_the_students_feedback_pass_axe(
    page, new_context, live_server, open_lab, instructor_user, axe
):
    ConsentStatement.objects.filter(sheet__experiment=open_lab.experiment).update(required=True)
    errors = collect_console_errors(page)
    problems: list[str] = []

    def visit(stage: str) -> None:
        if stage == "consent":
            expect(page.get_by_text("Ethics approval", exact=True)).to_be_visible()
            problems.extend(axe(page, "consent") + horizontal_overflow(page, "consent"))
            # Every statement is required: agreeing with one left unticked is refused, with the reason.
            page.locator(STATEMENTS).first.check()
            page.get_by_role("button", name="I agree to take part").click()
            expect(page.get_by_role("alert")).to_contain_text("Tick this statement to take part")
            assert not Participant.objects.exists()
            problems.extend(axe(page, "consent refused") + horizontal_overflow(page, "consent refused"))
        elif stage == "done":
            expect(page.get_by_role("heading", name="Your feedback")).to_be_visible()
            expect(page.get_by_text("Feedback will follow")).to_be_visible()
            problems.extend(axe(page, "done") + horizontal_overflow(page, "done"))

    student, _answers = take_the_lab_with_the_mouse(page, live_server.url, open_lab.join_code, visit)
    assert student.agreed_statements == ["read_information", "take_part", "open_data"]
    assert student.sheet_version == open_lab.experiment.information_sheet.version

    page.get_by_role("link", name="your own feedback link").click()
    expect(page.locator("#feedback-pending")).to_contain_text("not released yet")
    problems.extend(axe(page, "feedback pending") + horizontal_overflow(page, "feedback pending"))
    feedback_url = page.url

    classmates_finish(open_lab, 9)
    staff_context = new_context(base_url=live_server.url)
    staff_context.add_init_script(path=str(AXE_JS))  # as the axe fixture does for the student's page
    staff = staff_context.new_page()
    staff_errors = collect_console_errors(staff)
    log_in(staff, live_server.url, instructor_user.username)
    staff.goto(f"/admin/experiment/labsession/{open_lab.pk}/change/")
    staff.get_by_role("button", name="Close (no new students)").click()
    staff.get_by_role("link", name="Feedback", exact=True).click()
    expect(staff.locator("#release-state")).to_contain_text("Not released. The session is closed.")
    problems.extend(axe(staff, "release"))
    shoot(staff, "feedback-release-pending")
    staff.get_by_role("button", name="Release feedback").click()
    expect(staff.get_by_text(f"Feedback released for {open_lab.join_code}.")).to_be_visible()
    expect(staff.locator("#release-state")).to_contain_text("Released")
    problems.extend(axe(staff, "released"))
    shoot(staff, "feedback-release")
    staff.get_by_role("link", name="Class results, for the projector").click()
    expect(staff.get_by_role("table")).to_be_visible()
    problems.extend(axe(staff, "class results") + horizontal_overflow(staff, "class results"))
    shoot(staff, "feedback-class-results")

    page.goto(feedback_url)
    expect(page.get_by_role("heading", name="About this study")).to_be_visible()
    expect(page.get_by_text("fabricated on purpose", exact=False).first).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("^Recall: yours is"))).to_be_visible()
    expect(page.locator(".feedback-answers > li")).to_have_count(10)
    problems.extend(axe(page, "feedback") + horizontal_overflow(page, "feedback"))
    shoot(page, "feedback")

    assert not problems, "\n".join(problems)
    refused = f"POST {live_server.url}/join/{open_lab.join_code}/: 400"  # the consent with a statement unticked
    assert errors == [refused] and staff_errors == []
