"""An instructor runs a session from admin in a real browser; a researcher downloads the results."""

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from experiment.models import Participant, SessionStatus
from experiment.monitor import IDLE_MINUTES
from experiment.rehearsal import simulate
from experiment.services import sessions
from tests.e2e.conftest import (
    SCREENSHOTS,
    STAFF_PASSWORD,
    collect_console_errors,
    enrol,
    horizontal_overflow,
    live_db,
)

pytestmark = [pytest.mark.e2e, live_db]


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Lab sessions", exact=True)).to_be_visible()


def test_an_instructor_opens_and_closes_a_session_and_shows_the_join_sheet_and_monitor(
    page, live_server, instructor_user, kubernetes
):
    errors = collect_console_errors(page)
    session = sessions.create_session(kubernetes, label="Tuesday group")
    log_in(page, live_server.url, instructor_user.username)

    page.get_by_role("link", name="Lab sessions", exact=True).click()
    page.get_by_role("link", name=session.join_code).click()
    expect(page.get_by_role("heading", name="Run this session")).to_be_visible()

    page.get_by_role("button", name="Open to students").click()
    expect(page.get_by_text(f"Session {session.join_code} is now open.")).to_be_visible()
    session.refresh_from_db()
    assert session.status == SessionStatus.OPEN

    page.get_by_role("link", name="Join sheet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(kubernetes.participant_title)
    expect(page.locator(".code")).to_have_text(f"{session.join_code[:4]}\u202f{session.join_code[4:]}")
    expect(page.locator(".qr svg")).to_be_visible()
    expect(page.get_by_text(f"{live_server.url}/join/{session.join_code}/", exact=True)).to_be_visible()
    page.go_back()

    # A fake clock: the monitor's next refresh runs at once instead of after its interval.
    page.clock.install()
    page.get_by_role("link", name="Live monitor").click()
    expect(page.locator("#monitor-total")).to_have_text("0")
    enrol(session)
    page.clock.run_for(5_000)
    expect(page.locator("#monitor-total")).to_have_text("1")
    expect(page.locator("#monitor-updated")).to_contain_text("Updated")
    page.go_back()

    page.get_by_role("button", name="Close (no new students)").click()
    expect(page.get_by_text(f"Session {session.join_code} is now closed.")).to_be_visible()
    session.refresh_from_db()
    assert session.status == SessionStatus.CLOSED
    assert errors == []


def test_a_researcher_reads_the_analysis_and_downloads_the_results_as_csv(
    page, live_server, researcher_user, open_lab, axe
):
    errors = collect_console_errors(page)
    simulate(open_lab, 6, profile="perfect", seed=1)
    log_in(page, live_server.url, researcher_user.username)
    page.goto(f"{live_server.url}/admin/experiment/experiment/{open_lab.experiment_id}/analysis/")
    page.get_by_label("Include simulated").check()
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("6 participant(s) analysed")).to_be_visible()
    expect(page.locator("#metric-tp .apa").first).to_contain_text("Mann-Whitney U =")
    # The summary comes first: the first table of the page, one row per outcome, directions in the arms' names.
    first_table = page.locator("#content table").first
    expect(first_table).to_have_id("summary-table")
    expect(first_table.locator("tbody tr")).to_have_count(8)
    expect(first_table).to_contain_text("DFD > Control, one-sided")
    expect(page.locator("#metric-tp")).not_to_have_attribute("open", "")
    problems = axe(page, "analysis") + horizontal_overflow(page, "analysis")
    page.locator("#metric-tp summary").click()  # and with one outcome's details open
    expect(page.locator("#metric-tp")).to_have_attribute("open", "")
    problems += axe(page, "analysis, details open") + horizontal_overflow(page, "analysis, details open")
    assert not problems, "\n".join(problems)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="participants.csv").click()
    download = download_info.value
    assert download.suggested_filename == f"{open_lab.experiment.slug}-participants.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    assert len(rows) == 6 and {row["is_simulated"] for row in rows} == {"true"}
    assert {"participant_code", "arm", "tp", "precision", "rating_diagram_dfd"} <= set(rows[0])
    assert errors == []


def in_viewport(page: Page, selector: str) -> dict:
    """The element's box, checked to lie wholly within the viewport as the page opens (nothing scrolled)."""
    box = page.locator(selector).first.bounding_box()
    size = page.viewport_size
    assert box is not None, selector
    assert box["x"] >= 0 and box["y"] >= 0, (selector, box)
    assert box["x"] + box["width"] <= size["width"] and box["y"] + box["height"] <= size["height"], (selector, box)
    return box


def test_the_join_sheet_fits_one_1920x1080_screen_with_a_qr_code_that_scales(staff_page, live_server, kubernetes):
    """A draft session opened at localhost: both warnings on top, and still the code, the address and the QR code
    on one screen; on a smaller screen the QR code shrinks to fit instead of falling below the fold."""
    errors = collect_console_errors(staff_page)
    session = sessions.create_session(kubernetes, label="Tuesday group")
    staff_page.set_viewport_size({"width": 1920, "height": 1080})
    staff_page.goto(f"{live_server.url}/admin/experiment/labsession/{session.pk}/join-sheet/")
    expect(staff_page.locator(".warning")).to_have_count(2)
    assert staff_page.locator(".warning").first.bounding_box()["y"] < staff_page.locator("h1").bounding_box()["y"]
    sizes = {}
    for width, height in ((1920, 1080), (1366, 768), (1280, 720)):
        staff_page.set_viewport_size({"width": width, "height": height})
        assert staff_page.evaluate("document.documentElement.scrollHeight") <= height
        for selector in (".warnings", "h1", ".code", ".how > .url", ".small .url"):
            in_viewport(staff_page, selector)
        qr = in_viewport(staff_page, ".qr svg")
        sizes[width] = qr["width"]
        if width == 1920:
            SCREENSHOTS.mkdir(exist_ok=True)
            staff_page.screenshot(path=str(SCREENSHOTS / "join-sheet-1920x1080.png"))
    assert sizes[1920] >= 600, "the QR code takes the height the screen has"
    assert sizes[1920] > sizes[1366] > sizes[1280], sizes
    assert errors == []


def test_the_monitor_says_how_long_ago_in_the_browsers_words_and_marks_idle_students(
    staff_page, live_server, open_lab, axe
):
    errors = collect_console_errors(staff_page)
    working, idle = enrol(open_lab), enrol(open_lab)
    simulate(open_lab, 2, profile="perfect", seed=1)
    long_ago = timezone.now() - timedelta(minutes=IDLE_MINUTES + 3)
    Participant.objects.filter(pk=idle.pk).update(last_activity_at=long_ago)
    Participant.objects.filter(pk=working.pk).update(last_activity_at=timezone.now() - timedelta(minutes=2))
    staff_page.set_viewport_size({"width": 1366, "height": 768})
    staff_page.goto(f"{live_server.url}/admin/experiment/labsession/{open_lab.pk}/monitor/")
    rows = staff_page.locator("#monitor-participants tbody tr")
    expect(rows).to_have_count(4)
    expect(staff_page.locator("#monitor-participants tr.idle")).to_have_count(1)
    expect(staff_page.locator("#monitor-participants tr.idle .idle-flag")).to_have_text("idle")
    expect(staff_page.locator("#monitor-idle")).to_have_text("1")
    expect(rows.nth(0).locator("time")).to_have_text("2 minutes ago")
    expect(rows.nth(1).locator("time")).to_have_text(f"{IDLE_MINUTES + 3} minutes ago")
    # The absolute time, in the browser's zone, on hover; no ISO timestamp anywhere in what the page shows.
    title = rows.nth(0).locator("time").get_attribute("title")
    assert title and not re.search(r"\d{4}-\d\d-\d\dT", title)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", staff_page.locator("#monitor").inner_text())
    expect(staff_page.locator("#monitor-counts tfoot td.total").last).to_have_text("4")
    SCREENSHOTS.mkdir(exist_ok=True)
    staff_page.screenshot(path=str(SCREENSHOTS / "monitor-1366x768.png"))
    problems = axe(staff_page, "monitor")
    assert not problems, "\n".join(problems)
    assert errors == []
