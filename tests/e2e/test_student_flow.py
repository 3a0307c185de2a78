"""A student takes the whole lab in a real browser, in each arm, and once with the keyboard alone."""

import pytest
from playwright.sync_api import expect

from experiment.models import Answer, Stage, UsefulnessRating
from experiment.sources import sources_for
from tests.e2e.conftest import collect_console_errors, live_db
from tests.e2e.flow import take_the_lab_with_the_keyboard, take_the_lab_with_the_mouse

pytestmark = [pytest.mark.e2e, live_db]

# Blocks hold one or two of each arm, so the first four students of a fresh session cover both arms (they answer the
# entry questions alike, so they share a stratum).
MAX_STUDENTS_FOR_BOTH_ARMS = 4


def assert_stored(participant, answers: dict[str, str]) -> None:
    participant.refresh_from_db()
    assert participant.stage == Stage.DONE
    stored = {f"threat_{a.threat_id}": a.choice for a in Answer.objects.filter(participant=participant)}
    assert stored == answers
    shown = participant.arm.shown_diagrams()
    assert UsefulnessRating.objects.filter(participant=participant).count() == len(sources_for(shown))


def assert_diagrams_of_the_arm_load(page, participant) -> None:
    """The diagrams of the participant's arm are served to them as SVG images."""
    for diagram in participant.arm.shown_diagrams():
        response = page.request.get(f"/p/{participant.code}/diagrams/{diagram.slug}.svg")
        assert response.ok, diagram.slug
        assert response.headers["content-type"].startswith("image/svg+xml")


def test_a_student_completes_the_lab_in_each_arm(new_context, live_server, open_lab):
    """Arms are random: students take the lab with the mouse until both arms have finished. Along the way no script,
    style or image is refused by the Content-Security-Policy, and the exposure script (a static file) reports."""
    arms_done = {}
    for _ in range(MAX_STUDENTS_FOR_BOTH_ARMS):
        # A fresh browser per student: the session cookie remembers one participant per lab session.
        page = new_context(base_url=live_server.url).new_page()
        errors = collect_console_errors(page)
        participant, answers = take_the_lab_with_the_mouse(page, live_server.url, open_lab.join_code)
        expect(page.locator("#completion-code")).not_to_be_empty()
        assert errors == []
        assert_stored(participant, answers)
        assert {"training", "threats"} <= set(participant.exposure), participant.exposure
        assert_diagrams_of_the_arm_load(page, participant)
        arms_done[participant.arm.slug] = participant
        page.context.close()
        if len(arms_done) == 2:
            break
    assert sorted(arms_done) == ["control", "dfd"], f"only {sorted(arms_done)} seen in {MAX_STUDENTS_FOR_BOTH_ARMS}"


def test_a_student_completes_the_lab_with_the_keyboard_alone(page, live_server, open_lab):
    errors = collect_console_errors(page)
    participant, answers = take_the_lab_with_the_keyboard(page, live_server.url, open_lab.join_code)
    expect(page.locator("#completion-code")).not_to_be_empty()
    assert errors == []
    assert_stored(participant, answers)
