"""One browser, students one after another, at a laptop's and a phone's size, in both arms: each student after a
finished one starts as a new participant, and unsent answers survive a language switch and a reload, then go."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import collect_console_errors, live_db
from tests.e2e.flow import (
    ANY_STAGE,
    SUBMIT,
    agree_with_the_mouse,
    answer_questionnaire_with_the_mouse,
    expect_next_stage,
    join_with_the_mouse,
    participant_on,
    radio_groups,
    stage_of,
    take_the_lab_with_the_mouse,
)

pytestmark = [pytest.mark.e2e, live_db]

SIZES = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
MAX_STUDENTS_FOR_BOTH_ARMS = 4
UNSENT = "threatlab:unsent:"


def browser_at(new_context, live_server, size: str) -> Page:
    """A fresh browser (its own cookies and storage) with a window of the size named."""
    page = new_context(base_url=live_server.url).new_page()
    page.set_viewport_size(SIZES[size])
    return page


def unsent_keys(page: Page) -> list[str]:
    return page.evaluate("prefix => Object.keys(sessionStorage).filter(key => key.startsWith(prefix))", UNSENT)


@pytest.mark.parametrize("size", SIZES)
def test_after_a_student_finishes_the_next_in_the_same_browser_is_a_new_participant(
    new_context, live_server, open_lab, size
):
    page = browser_at(new_context, live_server, size)
    errors = collect_console_errors(page)
    seen, arms = [], set()
    for _ in range(MAX_STUDENTS_FOR_BOTH_ARMS):
        participant, _answers = take_the_lab_with_the_mouse(page, live_server.url, open_lab.join_code)
        expect(page.locator("#completion-code")).not_to_be_empty()
        assert participant.code not in [p.code for p in seen], "the join link started somebody new"
        seen.append(participant)
        arms.add(participant.arm.slug)
        if arms == {"dfd", "control"}:
            break
    assert arms == {"dfd", "control"}
    assert errors == []


def dialogs_on_leaving(page: Page) -> list[str]:
    """The dialogs the page opens when the student goes elsewhere; each is answered "stay"."""
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.evaluate("() => { window.location.href = '/'; }")
    page.wait_for_timeout(500)
    return asked


def to_the_threats(page: Page, base_url: str, join_code: str) -> None:
    join_with_the_mouse(page, base_url, join_code)
    agree_with_the_mouse(page)
    expect(page).to_have_url(ANY_STAGE)
    if stage_of(page) == "entry":
        answer_questionnaire_with_the_mouse(page)
        expect_next_stage(page, "entry")
    page.get_by_role("button", name=SUBMIT["training"]).click()
    expect(page).to_have_url(re.compile(r"/threats/$"))


@pytest.mark.parametrize("size", SIZES)
def test_ticked_answers_survive_a_language_switch_and_a_reload_and_go_once_sent(
    new_context, live_server, open_lab, size
):
    arms = set()
    for _ in range(MAX_STUDENTS_FOR_BOTH_ARMS):
        page = browser_at(new_context, live_server, size)
        errors = collect_console_errors(page)
        to_the_threats(page, live_server.url, open_lab.join_code)
        groups = radio_groups(page, "threat_")
        counter = page.locator("[data-answered]")
        expect(counter).to_have_text(f"0 of {len(groups)} answered")
        ticked = groups[: len(groups) // 2]
        for number, name in enumerate(ticked, start=1):
            page.locator(f"input[name={name}][value=applicable]").check()
            expect(counter).to_have_text(f"{number} of {len(groups)} answered")
        expect(counter).to_have_attribute("aria-live", "polite")

        page.locator("#language-select").select_option("nl")
        page.get_by_role("button", name="Change").click()
        expect(page.locator("html")).to_have_attribute("lang", "nl")
        for name in ticked:
            expect(page.locator(f"input[name={name}][value=applicable]")).to_be_checked()
        expect(counter).to_have_text(f"{len(ticked)} van {len(groups)} beantwoord")
        page.reload()
        for name in ticked:
            expect(page.locator(f"input[name={name}][value=applicable]")).to_be_checked()

        assert dialogs_on_leaving(page) == ["beforeunload"], "leaving the half-filled page asks first"
        expect(page).to_have_url(re.compile(r"/threats/$"))

        for name in groups:
            page.locator(f"input[name={name}][value=not_applicable]").check()
        page.get_by_role("button", name="Volgende").click()
        expect_next_stage(page, "threats")
        assert unsent_keys(page) == [], "the stored answers' draft is gone"
        arms.add(participant_on(page).arm.slug)
        assert errors == []
        page.context.close()
        if arms == {"dfd", "control"}:
            break
    assert arms == {"dfd", "control"}


def test_starting_as_a_new_student_forgets_the_unsent_answers(page, live_server, open_lab):
    to_the_threats(page, live_server.url, open_lab.join_code)
    first = participant_on(page)
    page.locator(f"input[name={radio_groups(page, 'threat_')[0]}][value=applicable]").check()
    assert len(unsent_keys(page)) == 1
    page.once("dialog", lambda dialog: dialog.accept())
    page.goto(f"{live_server.url}/join/{open_lab.join_code}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Continue as participant {first.resume_code}")
    page.get_by_role("button", name="Start as a new student").click()
    expect(page.get_by_role("button", name="I agree to take part")).to_be_visible()
    assert unsent_keys(page) == []
    agree_with_the_mouse(page)
    expect(page).to_have_url(ANY_STAGE)
    assert participant_on(page).code != first.code
