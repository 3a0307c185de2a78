"""The control arm in a real browser, in every language: no page it is served names the DFD, in its text, its
attributes, its title or the diagrams it shows."""

import re

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Page

from experiment import stages
from experiment.models import Participant, Stage
from experiment.services import participation
from tests.e2e.conftest import enrol, live_db
from tests.helpers import lacked_terms

pytestmark = [pytest.mark.e2e, live_db]

# What a reader meets on the page as the browser shows it: the rendered text, the page title, and every attribute
# that is shown or read out.
READ = """() => [document.title, document.body.innerText,
    ...[...document.querySelectorAll('[alt], [title], [aria-label], [placeholder], [aria-description]')]
        .flatMap(el => ['alt', 'title', 'aria-label', 'placeholder', 'aria-description'].map(a => el.getAttribute(a)))
        .filter(Boolean)].join('\\n')"""


def named_on(page: Page, pattern: re.Pattern) -> list[str]:
    texts = [page.evaluate(READ), page.content()]
    # The diagrams on the page and the ones its viewer opens; an image whose source a script sets later has none yet.
    sources = """() => [...document.images].map(image => image.src).filter(Boolean).concat(
        [...document.querySelectorAll('[data-viewer-src]')]
            .map(button => new URL(button.dataset.viewerSrc, location.href).href))"""
    for src in page.evaluate(sources):
        response = page.request.get(src)
        assert response.ok, src
        texts.append(response.text())
    return [match.group(0) for text in texts for match in pattern.finditer(text)]


def test_the_control_arms_pages_name_no_dfd_in_any_language(page: Page, live_server, open_lab):
    control = open_lab.experiment.arms.select_related("experiment__scenario").get(slug="control")
    pattern = lacked_terms(control)
    seen = {}
    for language, _name in settings.LANGUAGES:
        page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
        page.goto(f"{live_server.url}{reverse('experiment:consent', args=[open_lab.join_code])}")
        assert page.locator("html").get_attribute("lang") == language
        seen[(language, "consent")] = named_on(page, pattern)
        participant = enrol(open_lab)
        for stage in stages.stages_for(open_lab.experiment):
            if stage == Stage.TRAINING and participant.stage == Stage.ENTRY:
                # The arm is drawn after the entry questionnaire; this participant is put in the control arm.
                participation.submit_entry(participant, [])
                Participant.objects.filter(pk=participant.pk).update(arm=control)
            Participant.objects.filter(pk=participant.pk).update(stage=stage)
            page.goto(f"{live_server.url}{reverse(stages.URL_NAMES[stage], args=[participant.code])}")
            seen[(language, stage.value)] = named_on(page, pattern)
    assert len(seen) == 3 * 7
    assert {where: terms for where, terms in seen.items() if terms} == {}
