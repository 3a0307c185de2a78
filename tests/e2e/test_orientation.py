"""Every student page at a laptop's and a phone's size, in both arms: axe-core finds no violation, every form
control's border reaches 3:1 against its background (WCAG 1.4.11), a 1-5 scale keeps one line at 320 px, and Back
after a form error lands on the current step."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE_WIDTH, live_db
from tests.e2e.flow import SUBMIT, expect_next_stage, participant_on, submit_empty, take_the_lab_with_the_mouse
from tests.e2e.test_shared_computer import SIZES, to_the_threats

pytestmark = [pytest.mark.e2e, live_db]

MAX_STUDENTS_FOR_BOTH_ARMS = 4

# The contrast of each visible form control's border with what is behind it: WCAG's relative luminance, the border
# blended over the first opaque background among its ancestors.
CONTROL_CONTRAST = """() => {
  const rgba = text => (text.match(/[\\d.]+/g) || []).map(Number).concat([1]).slice(0, 4);
  const behind = element => {
    for (let el = element.parentElement; el; el = el.parentElement) {
      const color = rgba(getComputedStyle(el).backgroundColor);
      if (color[3] > 0) return color;
    }
    return [255, 255, 255, 1];
  };
  const luminance = ([r, g, b]) => [r, g, b]
    .map(v => v / 255).map(v => v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4))
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  return [...document.querySelectorAll('input:not([type=hidden]):not([type=submit]), select, textarea')]
    .filter(el => el.getClientRects().length)
    .map(el => {
      const back = behind(el);
      const border = rgba(getComputedStyle(el).borderTopColor);
      const mixed = border.slice(0, 3).map((v, i) => v * border[3] + back[i] * (1 - border[3]));
      const [light, dark] = [luminance(mixed), luminance(back)].sort((a, b) => b - a);
      return [el.name || el.id, Math.round(((light + 0.05) / (dark + 0.05)) * 100) / 100];
    });
}"""

# Each row of side-by-side choices: how many lines its options take (distinct tops) at the current width.
SCALE_LINES = """() => [...document.querySelectorAll('.choice-row')].map(row =>
  new Set([...row.querySelectorAll('input')].map(input => Math.round(input.getBoundingClientRect().top))).size)"""


def low_contrast(page: Page, name: str) -> list[str]:
    return [f"{name}: {control} {ratio}:1" for control, ratio in page.evaluate(CONTROL_CONTRAST) if ratio < 3]


def scales_on_more_than_one_line(page: Page, name: str) -> list[str]:
    size = page.viewport_size
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 640})
    try:
        lines = page.evaluate(SCALE_LINES)
    finally:
        page.set_viewport_size(size)
    return [f"{name}: a row of choices takes {n} lines at {PHONE_WIDTH} px" for n in lines if n > 1]


@pytest.mark.parametrize("size", SIZES)
def test_every_student_page_passes_axe_and_keeps_controls_at_3_to_1(page, live_server, open_lab, axe, size):
    """Students take the lab one after another in this browser (each after a finished one starts anew) until both
    arms are done; every page is checked as it opens and with its form errors shown."""
    page.set_viewport_size(SIZES[size])
    problems: list[str] = []
    arms: set[str] = set()

    def check(stage: str) -> None:
        name = f"{stage} at {size}"
        problems.extend(axe(page, name))
        problems.extend(low_contrast(page, name))
        problems.extend(scales_on_more_than_one_line(page, name))
        if stage in SUBMIT and stage != "training" and not arms:
            submit_empty(page, stage)
            problems.extend(axe(page, f"{name} with errors"))
            problems.extend(low_contrast(page, f"{name} with errors"))

    for _ in range(MAX_STUDENTS_FOR_BOTH_ARMS):
        participant, _answers = take_the_lab_with_the_mouse(page, live_server.url, open_lab.join_code, check)
        arms.add(participant.arm.slug)
        if arms == {"dfd", "control"}:
            break
    assert arms == {"dfd", "control"}
    assert not problems, "\n".join(problems)


def test_back_after_a_page_with_a_form_error_lands_on_the_current_step(page, live_server, open_lab):
    to_the_threats(page, live_server.url, open_lab.join_code)
    submit_empty(page, "threats")
    expect(page.get_by_role("alert")).to_be_visible()
    for name in page.evaluate(
        "() => [...new Set([...document.querySelectorAll('input[type=radio]')].map(i => i.name))]"
    ):
        if name.startswith("threat_"):
            page.locator(f"input[name={name}][value=applicable]").check()
    page.get_by_role("button", name=SUBMIT["threats"]).click()
    expect_next_stage(page, "threats")
    after = page.url
    page.go_back()
    expect(page).to_have_url(after)
    assert participant_on(page).stage == "usefulness"
