"""An instructor runs a session from admin in a real browser; a researcher downloads the results."""

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from experiment.models import SessionStatus
from experiment.rehearsal import simulate
from experiment.services import sessions
from tests.e2e.conftest import STAFF_PASSWORD, collect_console_errors, enrol, horizontal_overflow, live_db

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
    expect(page.get_by_role("heading", level=1)).to_have_text(kubernetes.title)
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
