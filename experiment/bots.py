"""Simulated participants that take the lab through the real HTTP flow, page by page, like a browser.

Bots identify themselves with a header signed with the SECRET_KEY, so the server marks them ``is_simulated``
and nobody without the key can pass as a bot (or hide a real participant among bots). They read each page's form,
fill it by their profile, and post it with the page's CSRF token; experiment/student_pages.py reads the pages and
fills the forms, for them and for the load driver (bench/driver.py) alike.
"""

import random
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.cookiejar import CookieJar
from typing import Protocol

from django.core import signing

from experiment.models import Choice
from experiment.student_pages import CONSENT, Form, fill, participant_path, read_page

BOT_HEADER = "X-ThreatLab-Bot"
_BOT_SALT = "threatlab.bot"
PROFILES = ("random", "perfect", "diagram_helps")


def bot_token() -> str:
    return signing.dumps("bot", salt=_BOT_SALT)


def is_bot_token(value: str | None) -> bool:
    if not value:
        return False
    try:
        return signing.loads(value, salt=_BOT_SALT, max_age=24 * 3600) == "bot"
    except signing.BadSignature:
        return False


def marks_real(profile: str, is_real: bool, sees_dfd: bool, rng: random.Random, margin: float = 0.25) -> bool:
    """A bot's answer to one threat: True for "applicable".

    random: a coin flip. perfect: the answer key. diagram_helps: right with probability 0.6 in an arm without a
    DFD and 0.6 + margin in an arm with one, so the analysis should find the DFD arm more accurate.
    """
    if profile == "random":
        return rng.random() < 0.5
    if profile == "perfect":
        return is_real
    if profile == "diagram_helps":
        p_right = min(1.0, 0.6 + (margin if sees_dfd else 0.0))
        return is_real if rng.random() < p_right else not is_real
    raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")


@dataclass(frozen=True)
class Page:
    status: int
    url: str
    html: str


class Transport(Protocol):
    def get(self, path: str) -> Page: ...

    def post(self, path: str, data: dict[str, str]) -> Page: ...


class ClientTransport:
    """In-process, through Django's test client with CSRF checks on, as a browser would meet them.

    Over HTTPS Django's CSRF check also wants to know the page a POST comes from: like a browser, every request
    says its origin (the site's own), which the check compares with the host and scheme of the request.
    """

    def __init__(self, host: str = "localhost", secure: bool = False):
        from django.test import Client

        origin = f"{'https' if secure else 'http'}://{host}"
        headers = {BOT_HEADER: bot_token(), "Origin": origin, "Referer": origin + "/"}
        self.client = Client(enforce_csrf_checks=True, headers=headers, HTTP_HOST=host)
        self.secure = secure

    def _page(self, response) -> Page:
        url = response.redirect_chain[-1][0] if response.redirect_chain else response.request["PATH_INFO"]
        return Page(response.status_code, urllib.parse.urlsplit(url).path, response.content.decode())

    def get(self, path: str) -> Page:
        return self._page(self.client.get(path, follow=True, secure=self.secure))

    def post(self, path: str, data: dict[str, str]) -> Page:
        return self._page(self.client.post(path, data, follow=True, secure=self.secure))


class HttpTransport:
    """Against a running server at ``base_url``, with a cookie jar like a browser's."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.token = bot_token()

    def _open(self, request: urllib.request.Request) -> Page:
        request.add_header(BOT_HEADER, self.token)
        request.add_header("Referer", self.base_url + "/")
        try:
            with self.opener.open(request, timeout=30) as response:
                return Page(response.status, urllib.parse.urlsplit(response.url).path, response.read().decode())
        except urllib.error.HTTPError as error:
            return Page(error.code, urllib.parse.urlsplit(error.url).path, error.read().decode())

    def get(self, path: str) -> Page:
        return self._open(urllib.request.Request(self.base_url + path))

    def post(self, path: str, data: dict[str, str]) -> Page:
        body = urllib.parse.urlencode(data).encode()
        return self._open(urllib.request.Request(self.base_url + path, data=body, method="POST"))


class BotError(Exception):
    pass


@dataclass(frozen=True)
class BotResult:
    participant_code: str
    completion_code: str


def run_bot(
    transport: Transport,
    join_code: str,
    profile: str,
    rng: random.Random,
    answer_key: dict[int, bool],
    sees_dfd_for,
    margin: float = 0.25,
) -> BotResult:
    """Take the lab once, from consent to the thank-you page. ``sees_dfd_for(code)`` tells the bot's arm.

    The bot fills whatever stage the server sends it to (experiment/student_pages.py decides what it sends) and
    raises BotError on an error page or when a submit does not move it on to a stage it has not been to.
    """
    join = f"/join/{join_code}/"
    page = transport.get(join)
    if page.status != 200:
        raise BotError(f"the join page answered HTTP {page.status}")
    page = transport.post(join, fill(CONSENT, _form(page, CONSENT), rng))
    seen: list[str] = []
    while True:
        where = participant_path(page.url)
        if page.status != 200 or where is None or where.stage in seen:
            after = f" after {seen[-1]}" if seen else ""
            raise BotError(f"expected the next stage's page{after}, got HTTP {page.status} at {page.url}")
        seen.append(where.stage)
        if where.stage == "done":
            return BotResult(where.code, read_page(page.html).completion_code)
        threats = where.stage == "threats"
        answer = _judge(profile, answer_key, sees_dfd_for(where.code), rng, margin) if threats else None
        page = transport.post(page.url, fill(where.stage, _form(page, where.stage), rng, answer=answer))


def _judge(
    profile: str, answer_key: dict[int, bool], sees_dfd: bool, rng: random.Random, margin: float
) -> Callable[[int], str]:
    def answer(threat: int) -> str:
        real = marks_real(profile, answer_key[threat], sees_dfd, rng, margin)
        return Choice.APPLICABLE if real else Choice.NOT_APPLICABLE

    return answer


def _form(page: Page, stage: str) -> Form:
    form = read_page(page.html).form
    if form is None:
        raise BotError(f"the {stage} page at {page.url} has no form")
    return form
