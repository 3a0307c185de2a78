"""A student's way through the lab in a real browser: with the mouse, or with the keyboard alone."""

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect

from experiment.models import Participant

STAGE_PATH = re.compile(r"/p/(?P<code>[0-9a-f-]{36})/(?P<stage>[a-z]+)/$")
# The same without named groups, which the browser's RegExp (used by expect) does not read.
ANY_STAGE = re.compile(r"/p/[0-9a-f-]{36}/[a-z]+/$")
MAX_TABS = 400
STAGES = ["entry", "training", "threats", "usefulness", "exit", "done"]
# A page's button says "Next" where another page follows, "Submit and finish" on the last step before the thank-you
# page (which of the two depends on the experiment's questionnaires).
NEXT_OR_FINISH = re.compile(r"^(Next|Submit and finish)$")
SUBMIT = {
    "entry": NEXT_OR_FINISH,
    "training": "I have read the material: start the task",
    "threats": "Next",
    "usefulness": NEXT_OR_FINISH,
    "exit": NEXT_OR_FINISH,
}


def stage_of(page: Page) -> str:
    match = STAGE_PATH.search(page.url)
    return match["stage"] if match else page.url


def participant_on(page: Page) -> Participant:
    match = STAGE_PATH.search(page.url)
    assert match, f"not on a participant page: {page.url}"
    return Participant.objects.select_related("arm").get(code=uuid.UUID(match["code"]))


def expect_next_stage(page: Page, stage: str) -> None:
    """After a submit the browser is at a later stage than before (a refused submit stays put, with errors)."""
    later = "|".join(STAGES[STAGES.index(stage) + 1 :])
    expect(page).to_have_url(re.compile(rf"/p/[0-9a-f-]{{36}}/({later})/$"))


def radio_groups(page: Page, prefix: str) -> list[str]:
    """Names of the radio groups whose name starts with prefix, in the order the page shows them."""
    return page.evaluate(
        """prefix => [...new Set([...document.querySelectorAll('input[type=radio]')]
            .map(input => input.name).filter(name => name.startsWith(prefix)))]""",
        prefix,
    )


def choice_for(index: int) -> str:
    """The answer the tests give the index-th threat: alternately applicable and not applicable."""
    return "applicable" if index % 2 == 0 else "not_applicable"


# -- with the mouse ---------------------------------------------------------------------------------------------------


def join_with_the_mouse(page: Page, base_url: str, join_code: str) -> None:
    page.goto(f"{base_url}/")
    page.get_by_label("Session code").fill(join_code)
    page.get_by_role("button", name="Join", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/join/{join_code}/$"))


STATEMENTS = "form input[type=checkbox][name^=statement_]"


def agree_with_the_mouse(page: Page) -> None:
    """Tick every consent statement of the information sheet, then agree to take part."""
    for box in page.locator(STATEMENTS).all():
        box.check()
    page.get_by_role("button", name="I agree to take part").click()


def answer_threats_with_the_mouse(page: Page) -> dict[str, str]:
    answers = {}
    for index, name in enumerate(radio_groups(page, "threat_")):
        answers[name] = choice_for(index)
        page.locator(f"input[name={name}][value={answers[name]}]").check()
    page.get_by_role("button", name=SUBMIT["threats"]).click()
    return answers


def rate_usefulness_with_the_mouse(page: Page, value: int = 4) -> None:
    for name in radio_groups(page, "rating_"):
        page.locator(f"input[name={name}][value='{value}']").check()
    page.get_by_label("Any comment on the lab (optional)").fill("Clear material.")
    page.get_by_role("button", name=SUBMIT["usefulness"]).click()


def answer_questionnaire_with_the_mouse(page: Page) -> None:
    """Entry or exit questionnaire: the first option of every question, a line in every text box."""
    for name in radio_groups(page, ""):
        page.locator(f"input[type=radio][name={name}]").first.check()
    for box in page.locator("textarea").all():
        box.fill("Nothing to add.")
    page.get_by_role("button", name=SUBMIT["entry"], exact=True).click()


def take_the_lab_with_the_mouse(
    page: Page, base_url: str, join_code: str, visit: Callable[[str], None] | None = None
) -> tuple[Participant, dict[str, str]]:
    """From the start page to the thank-you page; returns the participant and the threat answers given.

    visit(stage), when given, is called as each page opens ("consent", each stage, "done") to look at it, or to
    submit its form empty first; it leaves the page at the same stage."""
    visit = visit or (lambda stage: None)
    join_with_the_mouse(page, base_url, join_code)
    visit("consent")
    agree_with_the_mouse(page)
    expect(page).to_have_url(ANY_STAGE)
    participant = participant_on(page)
    answers: dict[str, str] = {}
    for _ in range(len(STAGES)):
        stage = stage_of(page)
        visit(stage)
        if stage == "done":
            participant.refresh_from_db()  # its arm is drawn after the entry questionnaire
            return participant, answers
        if stage in ("entry", "exit"):
            answer_questionnaire_with_the_mouse(page)
        elif stage == "training":
            page.get_by_role("button", name=SUBMIT["training"]).click()
        elif stage == "threats":
            answers = answer_threats_with_the_mouse(page)
        elif stage == "usefulness":
            rate_usefulness_with_the_mouse(page)
        expect_next_stage(page, stage)
    raise AssertionError(f"the lab did not end on the thank-you page: {page.url}")


def submit_empty(page: Page, stage: str) -> None:
    """Send the stage's form with nothing filled in; the same page comes back with its errors."""
    page.get_by_role("button", name=SUBMIT[stage], exact=True).click()
    expect(page.get_by_role("alert")).to_be_visible()


# -- with the keyboard alone ------------------------------------------------------------------------------------------


def focused_matches(page: Page, selector: str) -> bool:
    return page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector)


def tab_to(page: Page, selector: str) -> None:
    """Press Tab until the element matching selector has the focus, as a keyboard user moves through a page."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if focused_matches(page, selector):
            return
    raise AssertionError(f"{MAX_TABS} presses of Tab on {page.url} never reached {selector}")


def answer_questionnaire_with_the_keyboard(page: Page) -> None:
    for name in radio_groups(page, ""):
        tab_to(page, f"input[type=radio][name={name}]")
        page.keyboard.press("Space")
        expect(page.locator(f"input[type=radio][name={name}]").first).to_be_checked()
    for name in page.eval_on_selector_all("textarea", "boxes => boxes.map(box => box.name)"):
        tab_to(page, f"textarea[name={name}]")
        page.keyboard.type("Nothing to add.")
    tab_to(page, "form button[type=submit]")
    page.keyboard.press("Enter")


def answer_threats_with_the_keyboard(page: Page) -> dict[str, str]:
    answers = {}
    for index, name in enumerate(radio_groups(page, "threat_")):
        tab_to(page, f"input[name={name}]")
        answers[name] = choice_for(index)
        # Tab enters an unanswered group on its first option (applicable); Space picks it, an arrow the next one.
        page.keyboard.press("Space" if answers[name] == "applicable" else "ArrowRight")
        expect(page.locator(f"input[name={name}][value={answers[name]}]")).to_be_checked()
    tab_to(page, "form button[type=submit]")
    page.keyboard.press("Enter")
    return answers


def rate_usefulness_with_the_keyboard(page: Page) -> None:
    for name in radio_groups(page, "rating_"):
        tab_to(page, f"input[name={name}]")
        page.keyboard.press("Space")
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        expect(page.locator(f"input[name={name}][value='4']")).to_be_checked()
    tab_to(page, "textarea[name=comment]")
    page.keyboard.type("Done with the keyboard only.")
    tab_to(page, "form button[type=submit]")
    page.keyboard.press("Enter")


def take_the_lab_with_the_keyboard(page: Page, base_url: str, join_code: str) -> tuple[Participant, dict[str, str]]:
    """The whole lab with Tab, Space, the arrow keys, typing and Enter; never a mouse click."""
    page.goto(f"{base_url}/")
    page.keyboard.press("Tab")
    assert focused_matches(page, "a[href='#main']"), "the first Tab reaches the skip link"
    tab_to(page, "input[name=code]")
    page.keyboard.type(join_code)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/join/{join_code}/$"))
    for name in page.eval_on_selector_all(STATEMENTS, "boxes => boxes.map(box => box.name)"):
        tab_to(page, f"input[name={name}]")
        page.keyboard.press("Space")
        expect(page.locator(f"input[name={name}]")).to_be_checked()
    tab_to(page, "button[value=consent]")
    page.keyboard.press("Enter")
    expect(page).to_have_url(ANY_STAGE)
    participant = participant_on(page)
    answers: dict[str, str] = {}
    for _ in range(len(STAGES)):
        stage = stage_of(page)
        if stage == "done":
            participant.refresh_from_db()  # its arm is drawn after the entry questionnaire
            return participant, answers
        if stage in ("entry", "exit"):
            answer_questionnaire_with_the_keyboard(page)
        elif stage == "training":
            tab_to(page, "form button[type=submit]")
            page.keyboard.press("Enter")
        elif stage == "threats":
            answers = answer_threats_with_the_keyboard(page)
        elif stage == "usefulness":
            rate_usefulness_with_the_keyboard(page)
        expect_next_stage(page, stage)
    raise AssertionError(f"the lab did not end on the thank-you page: {page.url}")
