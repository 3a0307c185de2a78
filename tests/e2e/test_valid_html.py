"""The Nu HTML Checker (vnu) finds no error in the HTML the server sends for every student page and the
instructor's pages. Pages are fetched with Django's test client: no browser needed, only Java and node_modules."""

from pathlib import Path

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from experiment.models import Participant
from tests.e2e.conftest import enrol
from tests.helpers import agreeing

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

MAX_STUDENTS_FOR_BOTH_ARMS = 4
ARM_PAGES = ("training", "threats", "usefulness")


def valid_data(form: forms.Form) -> dict[str, str]:
    """An answer for every field of a form: hidden fields as sent, the first choice, a line of text."""
    data = {}
    for name, field in form.fields.items():
        if isinstance(field.widget, forms.HiddenInput):
            data[name] = form[name].value() or ""
        elif getattr(field, "choices", None):
            data[name] = str(next(iter(field.choices))[0])
        else:
            data[name] = "Nothing to add."
    return data


class Pages:
    """Saves each fetched page as NAME.html in a folder for vnu."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.saved: list[Path] = []

    def save(self, name: str, response, status: int = 200) -> None:
        assert response.status_code == status, f"{name}: {response.status_code}"
        path = self.folder / f"{name}.html"
        path.write_bytes(response.content)
        self.saved.append(path)


def take_the_lab(client: Client, join_code: str, pages: Pages, *, every_page: bool) -> str:
    """Consent and go through every stage, saving each page (and each form with its errors when every_page)."""
    consent_url = reverse("experiment:consent", args=[join_code])
    response = client.get(consent_url)
    if every_page:
        pages.save("consent", response)
    form = response.context["form"]
    token = form["entry_token"].value()
    response = client.post(consent_url, agreeing(form, entry_token=token, decision="consent"), follow=True)
    participant = Participant.objects.get(code=response.request["PATH_INFO"].split("/")[2])
    while True:
        stage = response.request["PATH_INFO"].rstrip("/").rsplit("/", 1)[1]
        participant.refresh_from_db()
        arm = participant.arm.slug if participant.arm else ""
        if every_page or stage in ARM_PAGES:
            pages.save(f"{stage}-{arm}" if stage in ARM_PAGES else stage, response)
        if stage == "done":
            return arm
        url = response.request["PATH_INFO"]
        if every_page and stage != "training":
            pages.save(f"{stage}-with-errors", client.post(url, {}), status=400)
        # An unanswered page passes its questions as a blank form (built when first used).
        form = response.context["form"] or response.context["blank_form"]
        response = client.post(url, valid_data(form), follow=True)


def test_every_student_page_is_valid_html(vnu, tmp_path, open_lab):
    pages = Pages(tmp_path)
    pages.save("start", Client().get(reverse("experiment:home")))
    pages.save("start-with-errors", Client().post(reverse("experiment:join"), {"code": ""}), status=400)
    pages.save("resume-with-errors", Client().post(reverse("experiment:resume"), {"participant_code": "x"}), status=400)
    decliner = Client()
    consent_url = reverse("experiment:consent", args=[open_lab.join_code])
    token = decliner.get(consent_url).context["form"]["entry_token"].value()
    pages.save("declined", decliner.post(consent_url, {"entry_token": token, "decision": "decline"}, follow=True))

    arms = set()
    for number in range(MAX_STUDENTS_FOR_BOTH_ARMS):
        arms.add(take_the_lab(Client(), open_lab.join_code, pages, every_page=number == 0))
        if len(arms) == 2:
            break
    assert arms == {"dfd", "control"}

    errors = vnu(pages.saved)
    assert not errors, f"{len(errors)} HTML error(s) in {len(pages.saved)} pages:\n" + "\n".join(errors)


def test_the_instructors_pages_are_valid_html(vnu, tmp_path, open_lab, instructor_user):
    enrol(open_lab)
    client = Client()
    client.force_login(instructor_user)
    pages = Pages(tmp_path)
    for name in ("change", "join_sheet", "monitor"):
        pages.save(name, client.get(reverse(f"admin:experiment_labsession_{name}", args=[open_lab.pk])))
    errors = vnu(pages.saved)
    assert not errors, f"{len(errors)} HTML error(s):\n" + "\n".join(errors)


def test_the_checker_reports_broken_html(vnu, tmp_path):
    """vnu itself: a page with a form nested in a form is an error."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!doctype html><html lang=en><title>t</title><form><form></form></form>",
        encoding="utf-8",
    )
    assert vnu([page])
