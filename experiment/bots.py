"""Simulated participants that take the lab through the real HTTP flow, page by page, like a browser.

Bots identify themselves with a header signed with the SECRET_KEY, so the server marks them ``is_simulated``
and nobody without the key can pass as a bot (or hide a real participant among bots). They read each page's form,
fill it by their profile, and post it with the page's CSRF token.
"""

import random
import re
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from typing import Protocol

from django.core import signing

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
    """In-process, through Django's test client with CSRF checks on, as a browser would meet them."""

    def __init__(self, host: str = "localhost", secure: bool = False):
        from django.test import Client

        self.client = Client(enforce_csrf_checks=True, headers={BOT_HEADER: bot_token()}, HTTP_HOST=host)
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


class _FormReader(HTMLParser):
    """The names and values of a page's inputs, and the values each radio group offers."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self.radios: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        if tag != "input":
            return
        attr = dict(attrs)
        name = attr.get("name")
        if not name:
            return
        if attr.get("type") == "radio":
            self.radios.setdefault(name, []).append(attr.get("value", ""))
        elif attr.get("type") != "submit":
            self.values[name] = attr.get("value", "")


def read_form(html: str) -> _FormReader:
    reader = _FormReader()
    reader.feed(html)
    return reader


class BotError(Exception):
    pass


@dataclass(frozen=True)
class BotResult:
    participant_code: str
    completion_code: str


_PARTICIPANT_PATH = re.compile(r"^/p/([0-9a-f-]{36})/(\w+)/$")


def _expect(page: Page, stage: str) -> str:
    match = _PARTICIPANT_PATH.match(page.url)
    if page.status != 200 or not match or match.group(2) != stage:
        raise BotError(f"expected the {stage} page, got HTTP {page.status} at {page.url}")
    return match.group(1)


def run_bot(
    transport: Transport,
    join_code: str,
    profile: str,
    rng: random.Random,
    answer_key: dict[int, bool],
    sees_dfd_for,
    margin: float = 0.25,
) -> BotResult:
    """Take the lab once: consent, training, threats, usefulness. ``sees_dfd_for(code)`` tells the bot's arm."""
    consent = transport.get(f"/join/{join_code}/")
    if consent.status != 200:
        raise BotError(f"the join page answered HTTP {consent.status}")
    form = read_form(consent.html)
    page = transport.post(f"/join/{join_code}/", {**form.values, "decision": "consent"})
    if page.url.endswith("/entry/"):
        code = _expect(page, "entry")
        page = transport.post(page.url, _fill_questionnaire(read_form(page.html), rng))
    code = _expect(page, "training")
    page = transport.post(page.url, read_form(page.html).values)
    _expect(page, "threats")
    form = read_form(page.html)
    sees_dfd = sees_dfd_for(code)
    data = dict(form.values)
    for name, values in form.radios.items():
        if name.startswith("threat_"):
            real = marks_real(profile, answer_key[int(name.removeprefix("threat_"))], sees_dfd, rng, margin)
            data[name] = "applicable" if real else "not_applicable"
        else:  # a confidence rating
            data[name] = rng.choice(values)
    page = transport.post(page.url, data)
    _expect(page, "usefulness")
    page = transport.post(page.url, {**_fill_questionnaire(read_form(page.html), rng), "comment": ""})
    if page.url.endswith("/exit/"):
        _expect(page, "exit")
        page = transport.post(page.url, _fill_questionnaire(read_form(page.html), rng))
    _expect(page, "done")
    completion = re.search(r'id="completion-code">([A-Z0-9-]+)<', page.html)
    return BotResult(code, completion.group(1) if completion else "")


def _fill_questionnaire(form: _FormReader, rng: random.Random) -> dict[str, str]:
    """Every radio group answered at random; free text left empty (required text gets a word)."""
    return {**form.values, **{name: rng.choice(values) for name, values in form.radios.items()}}
