"""bench/pages.py: each student page's CPU in process, next to the reference view and the floor under every page
(the participant's lookup, and base.html around an empty page)."""

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.test import override_settings

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="bench.urls")
def test_the_lookup_floor_answers_with_the_participants_stage(client, make_participant):
    participant = make_participant()
    response = client.get(f"/bench/lookup/{participant.code}/")
    assert response.status_code == 200
    assert response.content.decode() == participant.stage


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="bench.urls")
def test_the_layout_floor_is_the_student_pages_layout_around_no_content(client, make_participant):
    participant = make_participant()
    page = client.get(f"/bench/layout/{participant.code}/").content.decode()
    assert 'id="language-select"' in page, "the language chooser every student page has"
    assert f'id="participant-code">{participant.resume_code}<' in page, "the footer every student page has"
    assert "<h1>" not in page, "no page content"


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="bench.urls")
@pytest.mark.parametrize("floor", ["lookup", "layout"])
def test_the_floors_give_404_for_a_participant_that_is_not_there(client, floor):
    assert client.get(f"/bench/{floor}/{uuid.uuid4()}/").status_code == 404


def test_the_script_prints_every_page_with_its_ratio_to_the_reference(tmp_path):
    done = subprocess.run(
        [sys.executable, "bench/pages.py", "--requests", "3", "--rounds", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split()[-1] for line in done.stdout.splitlines() if line.startswith("  ")}
    pages = ["reference", "lookup", "layout", "join", "entry", "training", "threats", "usefulness", "exit", "done"]
    assert list(rows) == pages
    assert rows["reference"] == "x1.00"
    assert all(ratio.startswith("x") and float(ratio[1:]) > 0 for ratio in rows.values())
