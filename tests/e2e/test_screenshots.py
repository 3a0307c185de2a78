"""Every student page, in each arm, at a laptop's and a phone's size, saved as a screenshot in test-results/: to look
at the pages as students see them. docs/screenshots/ keeps a few of them for the README."""

import functools

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SCREENSHOTS, live_db
from tests.e2e.flow import take_the_lab_with_the_mouse

pytestmark = [pytest.mark.e2e, live_db]

MAX_STUDENTS_FOR_BOTH_ARMS = 4
SIZES = {"1366x768": {"width": 1366, "height": 768}, "390x844": {"width": 390, "height": 844}}


def shoot_the_threats_page_at_work(page: Page, size: str, shots: dict[str, bytes]) -> None:
    """The screen as a student judging the last threat sees it, then with the arm's last diagram in the viewer, as it
    opens and two zoom steps later."""
    page.locator("article.threat-card").last.scroll_into_view_if_needed()
    shots[f"threats-last-threat-{size}"] = page.screenshot()
    page.locator("[data-viewer-bar] [data-viewer-open]").last.click()
    viewer = page.get_by_role("dialog")
    expect(viewer).to_be_visible()
    page.wait_for_timeout(300)  # the zoom settles
    shots[f"threats-viewer-{size}"] = page.screenshot()
    for _ in range(2):
        viewer.get_by_role("button", name="Zoom in").click()
    page.wait_for_timeout(300)
    shots[f"threats-viewer-zoomed-in-twice-{size}"] = page.screenshot()
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()


def shoot_each_size(page: Page, shots: dict[str, bytes], stage: str) -> None:
    """The page of this stage, whole, at each size (and the threats page at work)."""
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        shots[f"{stage}-{size}"] = page.screenshot(full_page=True)
        if stage == "threats":
            shoot_the_threats_page_at_work(page, size, shots)
        page.evaluate("window.scrollTo(0, 0)")
    page.set_viewport_size(SIZES["1366x768"])


def test_every_student_page_in_each_arm_at_both_sizes_is_saved_as_a_screenshot(new_context, live_server, open_lab):
    saved: dict[str, list[str]] = {}
    for _ in range(MAX_STUDENTS_FOR_BOTH_ARMS):
        page = new_context(base_url=live_server.url).new_page()
        shots: dict[str, bytes] = {}

        participant, _answers = take_the_lab_with_the_mouse(
            page, live_server.url, open_lab.join_code, functools.partial(shoot_each_size, page, shots)
        )
        page.context.close()
        arm = participant.arm.slug
        if arm in saved:
            continue
        SCREENSHOTS.mkdir(exist_ok=True)
        for name, png in shots.items():
            (SCREENSHOTS / f"{arm}-{name}.png").write_bytes(png)
        saved[arm] = sorted(shots)
        if len(saved) == 2:
            break
    assert sorted(saved) == ["control", "dfd"]
    # The start page comes before any arm.
    page = new_context(base_url=live_server.url).new_page()
    page.goto("/")
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        (SCREENSHOTS / f"start-{size}.png").write_bytes(page.screenshot(full_page=True))
    pages = ["consent", "entry", "training", "threats", "usefulness", "exit", "done"]
    for arm, names in saved.items():
        for stage in pages:
            assert {f"{stage}-{size}" for size in SIZES} <= set(names), (arm, stage)
