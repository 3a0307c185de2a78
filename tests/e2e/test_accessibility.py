"""WCAG 2.1 A/AA (axe-core) on every student page, the join sheet and the monitor; reflow at 320 px; diagrams with
text alternatives; form errors announced and tied to their fields."""

import functools

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE_WIDTH, enrol, horizontal_overflow, live_db
from tests.e2e.flow import (
    ANY_STAGE,
    SUBMIT,
    agree_with_the_mouse,
    answer_questionnaire_with_the_mouse,
    expect_next_stage,
    join_with_the_mouse,
    participant_on,
    stage_of,
    submit_empty,
    take_the_lab_with_the_mouse,
)

pytestmark = [pytest.mark.e2e, live_db]

MAX_STUDENTS_FOR_BOTH_ARMS = 4
ARM_PAGES = ("training", "threats", "usefulness")  # what a student sees differs between arms only here


def test_every_student_page_passes_axe_and_reflows_at_320_px(page, live_server, open_lab, axe):
    """Every page of the lab, and each form with its errors shown; for the second arm only the pages that differ."""
    problems: list[str] = []
    checked: list[str] = []

    def check(name: str) -> None:
        checked.append(name)
        problems.extend(axe(page, name))
        problems.extend(horizontal_overflow(page, name))

    def visit(stage: str, every_page: bool) -> None:
        if stage in ARM_PAGES:
            check(f"{stage} ({participant_on(page).arm.slug})")
        elif every_page:
            check(stage)
        if every_page and stage in SUBMIT and stage != "training":
            submit_empty(page, stage)
            check(f"{stage} with errors")

    page.goto(f"{live_server.url}/")
    check("start page")
    page.get_by_role("button", name="Join", exact=True).click()
    check("start page with errors")

    arms = set()
    for _ in range(MAX_STUDENTS_FOR_BOTH_ARMS):
        page.context.clear_cookies()  # a new student: the server forgets the last one
        look = functools.partial(visit, every_page=not arms)
        participant, _answers = take_the_lab_with_the_mouse(page, live_server.url, open_lab.join_code, look)
        arms.add(participant.arm.slug)
        if len(arms) == 2:
            break
    assert arms == {"dfd", "control"}

    page.context.clear_cookies()
    page.goto(f"{live_server.url}/join/{open_lab.join_code}/")
    page.get_by_role("button", name="I do not agree").click()
    check("declined")

    assert not problems, f"{len(problems)} problem(s) on {len(set(checked))} pages:\n" + "\n".join(problems)


def test_the_pages_past_a_limit_pass_axe_and_reflow_at_320_px(page, live_server, open_lab, axe, settings):
    """The 429 pages of the three limits per address: wrong join codes, wrong participant codes, new participants."""
    settings.JOIN_GUESS_LIMIT_PER_ADDRESS = settings.RESUME_GUESS_LIMIT_PER_ADDRESS = 1
    settings.NEW_PARTICIPANTS_PER_ADDRESS = 1
    problems: list[str] = []
    for name, field, wrong in [
        ("too many wrong session codes", "Session code", "WRONGCODE"),
        ("too many wrong participant codes", "Participant code", "00000000-0000-4000-8000-000000000000"),
    ]:
        for _attempt in range(2):
            page.goto(f"{live_server.url}/")
            page.get_by_label(field).fill(wrong)
            page.get_by_label(field).press("Enter")
        expect(page.get_by_role("alert")).to_contain_text("Too many wrong")
        problems.extend(axe(page, name) + horizontal_overflow(page, name))
    for _student in range(2):
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/join/{open_lab.join_code}/")
        agree_with_the_mouse(page)
    expect(page.get_by_role("alert")).to_contain_text("Too many students have joined this session")
    problems.extend(axe(page, "too many new participants") + horizontal_overflow(page, "too many new participants"))
    assert not problems, "\n".join(problems)


def test_the_join_sheet_and_the_monitor_pass_axe(staff_page, live_server, open_lab, axe):
    enrol(open_lab)
    problems = []
    for name in ("join-sheet", "monitor"):
        staff_page.goto(f"{live_server.url}/admin/experiment/labsession/{open_lab.pk}/{name}/")
        expect(staff_page.locator("h1")).to_be_visible()
        problems.extend(axe(staff_page, name))
        problems.extend(horizontal_overflow(staff_page, name))
    assert not problems, "\n".join(problems)


def test_every_diagram_has_a_text_alternative(page, live_server, open_lab):
    """Each diagram image has an alt text and is described by the diagram's full text alternative, on the training
    page and beside the threats."""
    seen = set()
    for _ in range(MAX_STUDENTS_FOR_BOTH_ARMS):
        page.context.clear_cookies()
        join_with_the_mouse(page, live_server.url, open_lab.join_code)
        agree_with_the_mouse(page)
        if stage_of(page) == "entry":
            answer_questionnaire_with_the_mouse(page)
        expect(page).to_have_url(ANY_STAGE)
        participant = participant_on(page)
        diagrams = participant.arm.shown_diagrams()
        assert diagrams, "every arm sees at least the sequence diagram"
        for stage in ("training", "threats"):
            assert stage_of(page) == stage
            images = page.locator("figure.diagram img")
            # Each diagram once: in the material, or in the panel beside the threats.
            expect(images).to_have_count(len(diagrams))
            for image in images.all():
                slug = image.get_attribute("src").rsplit("/", 1)[1].removesuffix(".svg")
                diagram = next(d for d in diagrams if d.slug == slug)
                assert (image.get_attribute("alt") or "").strip(), f"{slug} on {stage} has no alt text"
                described_by = image.get_attribute("aria-describedby")
                description = page.locator(f"[id='{described_by}']")
                expect(description).to_have_count(1)
                first_line = diagram.text_alternative.strip().splitlines()[0][:60]
                assert first_line in description.text_content(), f"{slug} on {stage}"
                # decode() waits for the image and fails if it is broken (a 404, or refused by the CSP).
                assert image.evaluate("img => img.decode().then(() => img.naturalWidth, () => 0)"), f"{slug} broken"
            if stage == "training":
                page.get_by_role("button", name=SUBMIT["training"]).click()
                expect_next_stage(page, "training")
        seen.add(participant.arm.slug)
        if len(seen) == 2:
            break
    assert seen == {"dfd", "control"}


def assert_errors_announced_and_tied(page: Page) -> None:
    """The error summary is an alert that links to each field; each field in error is marked invalid or described by
    its message."""
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    links = alert.locator("a[href^='#']")
    assert links.count() > 0, "the summary links to the fields in error"
    for link in links.all():
        target = page.locator(f"[id='{link.get_attribute('href')[1:]}']")
        expect(target).to_have_count(1)
    invalid = page.evaluate(
        """() => [...document.querySelectorAll('form input:not([type=hidden]), form textarea, form select')]
            .filter(field => {
                const group = field.closest('fieldset');
                const describedBy = (field.getAttribute('aria-describedby') || '')
                    + ' ' + ((group && group.getAttribute('aria-describedby')) || '');
                const messages = describedBy.trim().split(/\\s+/).filter(Boolean)
                    .map(id => document.getElementById(id)).filter(Boolean);
                return field.getAttribute('aria-invalid') === 'true'
                    || messages.some(el => el.textContent.trim() && !el.closest('.form-text'));
            })
            .map(field => field.name)"""
    )
    for link in links.all():
        field_id = link.get_attribute("href")[1:]
        name = page.locator(f"[id='{field_id}']").get_attribute("name")
        assert name in invalid, f"{name} is in the error summary but not tied to its message ({page.url})"


def test_form_errors_are_announced_and_tied_to_their_fields(page, live_server, open_lab):
    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="Join", exact=True).click()
    assert_errors_announced_and_tied(page)

    def visit(stage: str) -> None:
        if stage in SUBMIT and stage != "training":
            submit_empty(page, stage)
            assert_errors_announced_and_tied(page)

    take_the_lab_with_the_mouse(page, live_server.url, open_lab.join_code, visit)


def test_the_checks_themselves_notice_a_bad_page(page, axe):
    """axe runs under a strict Content-Security-Policy and finds an image without alt text; the 320 px check finds a
    box wider than the phone."""
    probe = "<!doctype html><html lang=en><title>probe</title><main><img src=x.png><div class=wide>wide</div></main>"
    page.route(
        "http://probe.test/",
        lambda route: route.fulfill(
            body=probe,
            content_type="text/html",
            headers={"Content-Security-Policy": "default-src 'self'"},
        ),
    )
    page.route("http://probe.test/x.png", lambda route: route.fulfill(status=404))
    page.goto("http://probe.test/")
    violations = axe(page, "probe")
    assert any("image-alt" in violation for violation in violations), violations
    assert horizontal_overflow(page, "probe") == []
    page.evaluate("document.querySelector('.wide').style.width = '400px'")
    assert horizontal_overflow(page, "probe")
    assert PHONE_WIDTH == 320


def test_the_preview_of_every_page_of_both_arms_passes_axe_and_reflows(staff_page, live_server, open_lab, axe):
    """The staff preview: its bar on top of each student page, in both arms, with a form sent empty and filled."""
    problems: list[str] = []
    base = f"{live_server.url}/admin/experiment/experiment/{open_lab.experiment_id}/preview/"
    staff_page.goto(base)
    problems += axe(staff_page, "preview index")
    links = staff_page.locator("#content a").evaluate_all("links => links.map(a => a.href)")
    pages = [link for link in links if link.startswith(base) and link != base]
    assert len(pages) == 2 * 7, pages
    for link in pages:
        staff_page.goto(link)
        expect(staff_page.locator(".preview-bar")).to_be_visible()
        name = link.removeprefix(base)
        problems += axe(staff_page, f"preview {name}") + horizontal_overflow(staff_page, f"preview {name}")
    assert not problems, "\n".join(problems)
