"""The treatment within reach on the threats page: in each arm, at a laptop's and a phone's size, every diagram of the
arm is in view or one tap away from the last threat, opens legible in a full-screen viewer that zooms and pans with
buttons, keys and touch, closes on Escape with the focus back where it was, and counts in the exposure data."""

import re

import pytest
from playwright.sync_api import Page, expect

from experiment.models import Participant
from tests.e2e.conftest import AXE_JS, collect_console_errors, live_db
from tests.e2e.flow import (
    SUBMIT,
    agree_with_the_mouse,
    answer_questionnaire_with_the_mouse,
    answer_threats_with_the_mouse,
    expect_next_stage,
    join_with_the_mouse,
    participant_on,
    stage_of,
)

pytestmark = [pytest.mark.e2e, live_db]

MAX_STUDENTS_FOR_BOTH_ARMS = 4
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
# The size a diagram's smallest label must reach, in CSS pixels.
LEGIBLE_PX = 12
MAX_ZOOM_STEPS_ON_A_PHONE = 2


def smallest_label(svg: str) -> float:
    """The smallest font size in the SVG, in its own units (attributes and style declarations alike)."""
    sizes = [float(size) for size in re.findall(r"font-size\s*[=:]\s*\"?\s*([0-9.]+)", svg)]
    assert sizes, "the diagram names its font sizes"
    return min(sizes)


def viewbox_width(svg: str) -> float:
    return float(re.search(r'viewBox="[-0-9.]+ [-0-9.]+ ([0-9.]+) [0-9.]+"', svg).group(1))


def label_px(page: Page, image_selector: str, svg: str) -> float:
    """The diagram's smallest label as rendered: its SVG font size times the image's rendered scale."""
    width = page.locator(image_selector).evaluate("img => img.getBoundingClientRect().width")
    return smallest_label(svg) * width / viewbox_width(svg)


def wait_for_label_px(page: Page, svg: str, at_least: float) -> None:
    """Waits until the viewer's diagram renders its smallest label at `at_least` px or more."""
    wait_until_image(page, "return box.width >= arg - 0.5", at_least / smallest_label(svg) * viewbox_width(svg))


def image_box(page: Page) -> dict:
    return page.locator("[data-viewer-image]").evaluate("img => img.getBoundingClientRect().toJSON()")


def wait_until_image(page: Page, condition: str, arg) -> dict:
    """Waits until `condition` holds: JavaScript statements that see the image's box as `box`, and `arg`, and return
    true. Panzoom moves the image on the next animation frame, or over a short transition. Returns the box then."""
    page.wait_for_function(
        f"arg => {{ const box = document.querySelector('[data-viewer-image]').getBoundingClientRect(); {condition} }}",
        arg=arg,
        timeout=3000,
    )
    return image_box(page)


# Where the viewer opens a diagram: at its own size or the screen's width, whichever is smaller; centred where it
# is smaller than the screen, from its top where it is taller.
AT_THE_START = """
    const stage = document.querySelector('[data-viewer-stage]').getBoundingClientRect();
    const image = document.querySelector('[data-viewer-image]');
    const scale = Math.min(1, stage.width / image.naturalWidth);
    const left = stage.left + Math.max(0, (stage.width - image.naturalWidth * scale) / 2);
    const top = stage.top + Math.max(0, (stage.height - image.naturalHeight * scale) / 2);
    return image.naturalWidth > 0 && Math.abs(box.width - image.naturalWidth * scale) < 1
        && Math.abs(box.left - left) < 1 && Math.abs(box.top - top) < 1;
"""


def wait_for_the_start(page: Page) -> dict:
    return wait_until_image(page, AT_THE_START, None)


def reach_the_threats(page: Page, base_url: str, join_code: str) -> Participant:
    join_with_the_mouse(page, base_url, join_code)
    agree_with_the_mouse(page)
    if stage_of(page) == "entry":
        answer_questionnaire_with_the_mouse(page)
        expect_next_stage(page, "entry")
    page.get_by_role("button", name=SUBMIT["training"]).click()
    expect_next_stage(page, "training")
    assert stage_of(page) == "threats"
    return participant_on(page)


def new_student(new_context, base_url: str, join_code: str) -> tuple[Page, Participant]:
    """A student in a fresh touch-capable browser, at the threats page; axe-core is there to be run."""
    context = new_context(base_url=base_url, has_touch=True)
    if AXE_JS.exists():
        context.add_init_script(path=str(AXE_JS))
    page = context.new_page()
    return page, reach_the_threats(page, base_url, join_code)


@pytest.fixture
def students_in_each_arm(new_context, live_server, open_lab) -> dict[str, tuple[Page, Participant]]:
    """A threats page per arm: students join until both arms are drawn."""
    pages: dict[str, tuple[Page, Participant]] = {}
    for _ in range(MAX_STUDENTS_FOR_BOTH_ARMS):
        page, participant = new_student(new_context, live_server.url, open_lab.join_code)
        pages.setdefault(participant.arm.slug, (page, participant))
        if len(pages) == 2:
            return pages
    raise AssertionError(f"only {sorted(pages)} drawn in {MAX_STUDENTS_FOR_BOTH_ARMS} students")


@pytest.fixture
def dfd_student(new_context, live_server, open_lab) -> tuple[Page, Participant]:
    """A threats page of the DFD arm."""
    for _ in range(MAX_STUDENTS_FOR_BOTH_ARMS):
        page, participant = new_student(new_context, live_server.url, open_lab.join_code)
        if participant.arm.slug == "dfd":
            return page, participant
    raise AssertionError(f"no DFD arm drawn in {MAX_STUDENTS_FOR_BOTH_ARMS} students")


def scroll_to_the_last_threat(page: Page) -> None:
    page.locator("article.threat-card").last.scroll_into_view_if_needed()
    expect(page.locator("article.threat-card").last).to_be_in_viewport()


def open_button(page: Page, slug: str):
    """The diagram bar's button for a diagram: the one control that stays in reach wherever the page is scrolled."""
    return page.locator(f"[data-viewer-bar] [data-viewer-src$='/{slug}.svg']")


@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["1366x768", "390x844"])
def test_from_the_last_threat_every_diagram_of_the_arm_is_one_tap_away_and_opens_legible(
    students_in_each_arm, size, axe
):
    problems: list[str] = []
    for arm, (page, participant) in students_in_each_arm.items():
        errors = collect_console_errors(page)
        page.set_viewport_size(size)
        diagrams = list(participant.arm.shown_diagrams())
        assert diagrams, f"{arm} shows diagrams"
        scroll_to_the_last_threat(page)
        problems.extend(axe(page, f"threats ({arm}, {size['width']} px, viewer closed)"))
        for diagram in diagrams:
            button = open_button(page, diagram.slug)
            expect(button).to_be_in_viewport()
            button.click()
            viewer = page.get_by_role("dialog", name=diagram.title)
            expect(viewer).to_be_visible()
            if size == LAPTOP:
                wait_for_label_px(page, diagram.svg, LEGIBLE_PX)
            else:
                for _ in range(MAX_ZOOM_STEPS_ON_A_PHONE):
                    viewer.get_by_role("button", name="Zoom in").click()
                wait_for_label_px(page, diagram.svg, LEGIBLE_PX)
            problems.extend(axe(page, f"threats ({arm}, {size['width']} px, viewer open on {diagram.slug})"))
            page.keyboard.press("Escape")
            expect(viewer).to_be_hidden()
            assert button.evaluate("b => b === document.activeElement"), "the focus returns to the opening button"
        assert errors == [], errors
    assert not problems, "\n".join(problems)


def test_on_a_laptop_the_panel_stays_beside_the_threats_with_its_diagrams_as_legible_as_in_training(
    students_in_each_arm,
):
    for arm, (page, participant) in students_in_each_arm.items():
        page.set_viewport_size(LAPTOP)
        scroll_to_the_last_threat(page)
        panel = page.locator("aside.material-panel")
        expect(panel).to_be_in_viewport(ratio=0.9)
        diagrams = list(participant.arm.shown_diagrams())
        # Each diagram is on the page once (in the panel), legible there, in a window the panel keeps in view.
        expect(page.locator("figure.diagram img")).to_have_count(len(diagrams))
        for diagram in diagrams:
            image = f"figure.diagram img[src$='/{diagram.slug}.svg']"
            assert label_px(page, image, diagram.svg) >= LEGIBLE_PX, f"{arm}: {diagram.slug} in the panel"
        first = page.locator("figure.diagram .diagram-frame").first
        first.scroll_into_view_if_needed()
        expect(first).to_be_in_viewport()


def test_at_the_very_end_of_the_page_the_diagram_buttons_stay_on_screen(students_in_each_arm):
    for page, participant in students_in_each_arm.values():
        for size in (LAPTOP, PHONE):
            page.set_viewport_size(size)
            page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
            for diagram in participant.arm.shown_diagrams():
                expect(open_button(page, diagram.slug)).to_be_in_viewport(ratio=1)
            expect(page.get_by_role("button", name=SUBMIT["threats"])).to_be_in_viewport(ratio=1)


def test_the_viewer_zooms_and_pans_with_the_keyboard_alone(dfd_student):
    page, _participant = dfd_student
    page.set_viewport_size(PHONE)
    scroll_to_the_last_threat(page)
    button = open_button(page, "dfd")
    button.focus()
    page.keyboard.press("Enter")
    viewer = page.get_by_role("dialog")
    expect(viewer).to_be_visible()
    start = wait_for_the_start(page)

    page.keyboard.press("+")
    page.keyboard.press("+")
    before = wait_until_image(page, "return box.width >= arg * 3.9", start["width"])
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    wait_until_image(page, "return box.left < arg.left - 1 && box.top < arg.top - 1", before)
    page.keyboard.press("-")
    wait_until_image(page, "return box.width < arg * 3.9", start["width"])
    page.keyboard.press("0")
    wait_for_the_start(page)
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    assert button.evaluate("b => b === document.activeElement")


def test_the_viewer_zooms_with_a_pinch_and_pans_with_a_drag_on_a_touch_screen(dfd_student):
    page, _participant = dfd_student
    page.set_viewport_size(PHONE)
    scroll_to_the_last_threat(page)
    open_button(page, "dfd").tap()
    expect(page.get_by_role("dialog")).to_be_visible()
    start = wait_for_the_start(page)
    stage = page.locator("[data-viewer-stage]").bounding_box()
    x, y = stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2

    # Real touch input through the browser's DevTools protocol: Chromium turns it into pointer events.
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, points: list[tuple[float, float]]) -> None:
        cdp.send(
            "Input.dispatchTouchEvent",
            {"type": kind, "touchPoints": [{"x": px, "y": py, "id": n} for n, (px, py) in enumerate(points)]},
        )

    touch("touchStart", [(x - 20, y), (x + 20, y)])
    for spread in range(20, 180, 10):
        touch("touchMove", [(x - spread, y), (x + spread, y)])
    touch("touchEnd", [])
    pinched = wait_until_image(page, "return box.width > arg * 1.5", start["width"])

    touch("touchStart", [(x, y)])
    for step in range(1, 11):
        touch("touchMove", [(x - 10 * step, y - 10 * step)])
    touch("touchEnd", [])
    dragged = wait_until_image(page, "return box.left < arg.left - 50 && box.top < arg.top - 50", pinched)
    assert dragged["width"] == pytest.approx(pinched["width"], rel=0.01), "a drag moves without zooming"


def test_time_in_the_viewer_counts_for_its_diagram_in_the_exposure_data(dfd_student):
    page, participant = dfd_student
    page.set_viewport_size(PHONE)
    scroll_to_the_last_threat(page)
    expect(page.locator("figure.diagram[data-exposure=diagram_dfd]")).not_to_be_in_viewport()
    open_button(page, "dfd").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.wait_for_timeout(2500)
    page.keyboard.press("Escape")
    answer_threats_with_the_mouse(page)
    expect_next_stage(page, "threats")
    participant.refresh_from_db()
    assert participant.exposure["threats"]["diagram_dfd"] >= 2.0, participant.exposure
