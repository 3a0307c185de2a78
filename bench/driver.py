"""Simulated students taking the lab over HTTP, as browsers would, timed request by request.

Each student has its own connection pool and cookie jar, reads each page's form (CSRF token, entry token, the
threats in the order shown, the sources to rate), thinks, and submits it. The class ramps like a real one: everyone
arrives within the join window, everyone submits within the submit window.

Straight to gunicorn, the requests say what nginx would say in production (``X-Forwarded-Proto: https``); through
nginx (``https://``), nginx says it. Either way they carry the page's ``Origin``, so the app runs with its
production settings: secure cookies, HSTS, the HTTPS-only CSRF checks. The cookies are kept here by hand: a cookie
jar would not send a ``Secure`` cookie over plain HTTP on loopback. nginx's certificate is self-signed: not checked.

Each student's connections leave from an address of its own in 127.0.0.0/8 (``student_address``), as a class's
browsers do from their own machines, so the limits per address (experiment/throttle.py) meet a class as they
would, not one address for all.

A student who meets an error (a 5xx page, a dropped connection) does what a person does: waits a moment and sends
the same request again (reload, or "submit" once more), until ``retry_for`` seconds have passed. Each such request
is recorded as a retry, apart from the error that caused it.
"""

import asyncio
import random
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

import aiohttp
from multidict import CIMultiDictProxy

from experiment.student_pages import (
    CONSENT,
    RATING_PREFIX,
    Form,
    StudentPage,
    fill,
    participant_path,
    read_page,
    threat_id,
)


@dataclass
class Sample:
    """One HTTP exchange as the student saw it."""

    step: str
    at: float  # seconds since the run started
    latency: float  # seconds, as the client measured it
    status: int  # 0: no response (connection refused, reset, timed out)
    server_us: int | None = None  # X-Bench-Time: time inside Django
    cpu_us: int | None = None  # X-Bench-CPU: CPU time inside Django
    queries: int | None = None
    db_us: int | None = None  # X-Bench-DB-Time: time waiting on SQL
    error: str = ""
    retry: bool = False  # sent again after an error, as a person reloads
    instance: str = ""  # X-Bench-Instance: the gunicorn instance that answered


@dataclass
class Recorder:
    t0: float = field(default_factory=time.monotonic)
    samples: list[Sample] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.t0

    async def sleep_until(self, at: float) -> None:
        delay = at - self.now()
        if delay > 0:
            await asyncio.sleep(delay)


def _int(value: str | None) -> int | None:
    return int(value) if value else None


def student_address(index: int) -> str:
    """Student ``index``'s own source address: 127.1.0.1 to 127.1.0.250, then 127.1.1.1, ... (250 a /24, none
    ending in .0 or .255). Apart from 127.0.0.1, which is nginx's own address towards gunicorn and the probes'."""
    return f"127.1.{index // 250}.{index % 250 + 1}"


@dataclass
class Page:
    """A response as the student's browser got it, read to the end."""

    status_code: int
    headers: CIMultiDictProxy
    text: str


class Browser:
    """One student's browser: a connection pool, cookies, and a timing record of every request."""

    # aiohttp, not httpx: the driver runs on the cores the server under test runs on, and aiohttp's C parser spends
    # a third of httpx's CPU per request (docs/performance.md).

    def __init__(self, base_url: str, recorder: Recorder, timeout: float = 30.0, local_address: str | None = None):
        self.base_url = base_url
        self.origin = "https://" + base_url.split("://", 1)[1]
        self.recorder = recorder
        self.local_address = local_address
        self.cookies: dict[str, str] = {}
        direct = base_url.startswith("http://")
        headers = {"User-Agent": "threatlab-bench"}
        if direct:
            headers["X-Forwarded-Proto"] = "https"  # what nginx would add
        connector = aiohttp.TCPConnector(
            ssl=None if direct else False, local_addr=(local_address, 0) if local_address else None
        )
        self.client = aiohttp.ClientSession(
            base_url,
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=timeout),
            headers=headers,
        )

    async def close(self) -> None:
        await self.client.close()

    def _headers(self, post: bool) -> dict[str, str]:
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if post:
            headers["Origin"] = self.origin
        return headers

    def _keep_cookies(self, response: Page) -> None:
        for header in response.headers.getall("set-cookie", []):
            pair, *attributes = header.split(";")
            name, _, value = pair.strip().partition("=")
            expired = any(a.strip().lower() in ("max-age=0",) or "1970" in a for a in attributes if "=" in a)
            if expired:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    async def send(
        self, step: str, method: str, path: str, data: dict | None = None, retry: bool = False
    ) -> Page | None:
        """One request, timed and recorded; None when no response came back."""
        started = self.recorder.now()
        clock = time.perf_counter()
        try:
            async with self.client.request(
                method, path, data=data, headers=self._headers(method == "POST"), allow_redirects=False
            ) as raw:
                response = Page(raw.status, raw.headers, await raw.text())
        except (aiohttp.ClientError, TimeoutError) as error:
            latency = time.perf_counter() - clock
            self.recorder.samples.append(Sample(step, started, latency, 0, error=type(error).__name__, retry=retry))
            return None
        latency = time.perf_counter() - clock
        self._keep_cookies(response)
        headers = response.headers
        self.recorder.samples.append(
            Sample(
                step,
                started,
                latency,
                response.status_code,
                server_us=_int(headers.get("x-bench-time")),
                cpu_us=_int(headers.get("x-bench-cpu")),
                queries=_int(headers.get("x-bench-queries")),
                db_us=_int(headers.get("x-bench-db-time")),
                error="" if response.status_code < 400 else f"HTTP {response.status_code}",
                retry=retry,
                instance=headers.get("x-bench-instance", ""),
            )
        )
        return response


@dataclass
class Plan:
    """When one student does what, in seconds from the start of the run."""

    arrive: float
    consent_after: float  # reading the consent page
    start_task: float  # leaves the training for the threats
    submit_threats: float
    submit_ratings: float
    submit_last: float  # any page after the ratings (an exit questionnaire)

    def submit_at(self, stage: str, seen_threats: bool) -> float | None:
        """When to submit the form of ``stage``; None: a short think from when the page arrived."""
        fixed = {"training": self.start_task, "threats": self.submit_threats, "usefulness": self.submit_ratings}
        if stage in fixed:
            return fixed[stage]
        return self.submit_last if seen_threats else None


def class_plans(n: int, join_window: float, submit_window: float, rng: random.Random, gap: float = 5.0) -> list[Plan]:
    """Everyone arrives within ``join_window``; everyone submits every form of the task within the submit window.

    The submit window opens ``gap`` seconds after the join window closes (the reading time, compressed).
    """
    start = join_window + gap
    plans = []
    for _ in range(n):
        arrive = rng.uniform(0, join_window)
        consent_after = rng.uniform(1.0, 3.0)
        threats = rng.uniform(start, start + 0.7 * submit_window)
        ratings = threats + rng.uniform(1.0, 0.15 * submit_window)
        last = ratings + rng.uniform(1.0, 0.15 * submit_window)
        earliest_task = arrive + consent_after + 4.0
        task = rng.uniform(earliest_task, max(earliest_task, start - 1.0))
        plans.append(Plan(arrive, consent_after, task, threats, ratings, last))
    return plans


@dataclass
class Student:
    """What one simulated student did and saw; the checks compare it with what the database stored."""

    index: int
    plan: Plan
    rng: random.Random
    participant: str = ""
    stages: list[str] = field(default_factory=list)  # the pages the student went through, in order
    answers: dict[int, str] = field(default_factory=dict)  # threat id -> choice sent
    order: list[int] = field(default_factory=list)
    ratings: dict[str, int] = field(default_factory=dict)  # source key -> value sent
    comment: str = ""
    other_forms: dict[str, dict[str, str]] = field(default_factory=dict)  # stage -> fields sent (questionnaires)
    completion_code: str = ""
    diagrams: list[str] = field(default_factory=list)  # the diagram images the browser loaded (their slugs)
    finished: bool = False
    failure: str = ""
    errors: int = 0  # requests that got no page or a 5xx page
    notices: list[str] = field(default_factory=list)  # messages the pages showed ("already done", ...)
    drops: list[str] = field(default_factory=list)
    stop_at: str = ""  # a stage to stop at (calibration participants), or empty to finish the lab
    path: str = ""  # the page the student is on
    cookies: dict[str, str] = field(default_factory=dict)


def stage_of(path: str) -> str:
    where = participant_path(path)
    return where.stage if where else ""


class Lab:
    """Runs one class of students through the flow against a server.

    Students are driven by the page they are on, as a person is: the URL names the stage, the form says what to
    fill in (experiment/student_pages.py reads the page and fills the form, as it does for the rehearsal bots:
    a random choice per radio group, a line of text per text area). What each student sent is remembered for the
    checks: its answers, ratings and comment, and any other stage's form (an entry or exit questionnaire).
    """

    max_pages = 20

    def __init__(
        self,
        base_url: str,
        join_code: str,
        recorder: Recorder,
        *,
        retry_for: float = 90.0,
        drop_hook=None,
    ):
        self.base_url = base_url
        self.join_code = join_code
        self.recorder = recorder
        self.retry_for = retry_for
        self.drop_hook = drop_hook

    async def _until_page(
        self, student: Student, browser: Browser, step: str, method: str, path: str, data: dict | None = None
    ) -> Page:
        """Send until a response that is not a server error comes back, as a person reloading would."""
        deadline = self.recorder.now() + self.retry_for
        attempt = 0
        while True:
            response = await browser.send(step, method, path, data, retry=attempt > 0)
            if response is not None and response.status_code < 500:
                return response
            student.errors += 1
            attempt += 1
            if self.recorder.now() > deadline:
                status = response.status_code if response is not None else "no response"
                raise LabFailure(f"{step}: still failing after {attempt} tries ({status})")
            await asyncio.sleep(min(5.0, 0.5 * attempt) + student.rng.uniform(0, 0.5))

    async def _submit(self, student: Student, browser: Browser, step: str, path: str, data: dict) -> Page:
        if self.drop_hook is not None:
            await self.drop_hook(student, browser, step, path, data)
        return await self._until_page(student, browser, step, "POST", path, data)

    async def _follow(self, student: Student, browser: Browser, response: Page) -> tuple[str, StudentPage]:
        """Follow a redirect to the page it names; return the path and the page the student now sees."""
        if response.status_code != 302:
            raise LabFailure(f"expected a redirect after a POST, got {response.status_code}")
        path = response.headers["location"]
        page = await self._until_page(student, browser, f"{stage_of(path) or 'other'}_page", "GET", path)
        if page.status_code != 200:
            raise LabFailure(f"{path}: {page.status_code}")
        shown = read_page(page.text)
        student.notices += [f"{stage_of(path)}: {notice}" for notice in shown.notices]
        student.path = path
        return path, shown

    async def take(self, student: Student) -> None:
        browser = Browser(self.base_url, self.recorder, local_address=student_address(student.index))
        try:
            await self._take(student, browser)
            student.finished = True
        except LabFailure as failure:
            student.failure = str(failure)
        finally:
            student.cookies = dict(browser.cookies)
            await browser.close()

    async def _take(self, student: Student, browser: Browser) -> None:
        plan = student.plan
        join = f"/join/{self.join_code}/"
        await self.recorder.sleep_until(plan.arrive)
        page = await self._until_page(student, browser, "join_page", "GET", join)
        form = read_page(page.text).form
        if form is None or "entry_token" not in form.values:
            raise LabFailure(f"consent page without a form ({page.status_code})")
        await asyncio.sleep(plan.consent_after)
        consent = fill(CONSENT, form, student.rng)
        response = await self._submit(student, browser, "consent_submit", join, consent)
        path, shown = await self._follow(student, browser, response)
        where = participant_path(path)
        if where is None:
            raise LabFailure(f"consent led to {path}, not a participant page")
        student.participant = where.code
        images_loaded = False
        for _page in range(self.max_pages):
            stage = stage_of(path)
            student.stages.append(stage)
            if not images_loaded and shown.images:
                # The browser loads the diagrams once; they are cached (Cache-Control: private, max-age=3600).
                # Their addresses are relative to the page ("../diagrams/<slug>.svg").
                for image in dict.fromkeys(urljoin(path, src) for src in shown.images):
                    loaded = await self._until_page(student, browser, "diagram", "GET", image)
                    if loaded.status_code == 200:
                        student.diagrams.append(image.rsplit("/", 1)[1].removesuffix(".svg"))
                images_loaded = True
            if stage == student.stop_at:
                return
            if stage == "done":
                student.completion_code = shown.completion_code
                return
            data = self._fill(student, stage, shown.form)
            at = plan.submit_at(stage, seen_threats="threats" in student.stages[:-1] or stage == "threats")
            if at is None:
                await asyncio.sleep(student.rng.uniform(2.0, 5.0))
            else:
                await self.recorder.sleep_until(at)
            response = await self._submit(student, browser, f"{stage}_submit", path, data)
            if response.status_code == 302:
                path, shown = await self._follow(student, browser, response)
                continue
            # Not taken (a 4xx page): a person reopens the lab's link and goes on from the step it shows.
            problems = ", ".join(read_page(response.text).errors) or response.text[:80]
            student.notices.append(f"{stage}: HTTP {response.status_code} {problems}".strip())
            student.errors += 1
            reopened = await self._until_page(student, browser, "reopen", "GET", f"/p/{student.participant}/")
            path, shown = await self._follow(student, browser, reopened)
        raise LabFailure(f"no thank-you page after {self.max_pages} pages: {student.stages}")

    def _fill(self, student: Student, stage: str, form: Form | None) -> dict[str, str]:
        if form is None or "csrfmiddlewaretoken" not in form.values:
            raise LabFailure(f"the {stage} page has no form")
        data = fill(stage, form, student.rng, text=f"bench student {student.index}")
        if stage == "threats":
            student.order = [int(i) for i in form.values["shown_order"].split(",")]
            student.answers = {threat: value for name, value in data.items() if (threat := threat_id(name)) is not None}
            if sorted(student.answers) != sorted(student.order):
                raise LabFailure("the threats page does not offer a choice for every threat in shown_order")
        if stage == "usefulness":
            student.comment = data.get("comment", "")
            student.ratings = {
                name.removeprefix(RATING_PREFIX): int(value)
                for name, value in data.items()
                if name.startswith(RATING_PREFIX)
            }
        if stage not in ("training", "threats", "usefulness"):
            student.other_forms[stage] = {name: value for name, value in data.items() if name not in form.values}
        return data


class LabFailure(Exception):
    """A student could not go on: what a person would be stuck on."""


async def run_class(lab: Lab, students: list[Student]) -> None:
    await asyncio.gather(*(lab.take(student) for student in students))


async def probe_reference(base_url: str, join_code: str, recorder: Recorder, stop: asyncio.Event, every: float) -> None:
    """The reference view, requested at a steady pace while the class runs: its latency under the same load."""
    browser = Browser(base_url, recorder)
    try:
        while not stop.is_set():
            await browser.send("reference", "GET", f"/bench/ref/?code={join_code}")
            try:
                await asyncio.wait_for(stop.wait(), timeout=every)
            except TimeoutError:
                pass
    finally:
        await browser.close()


async def loop_lag(recorder: Recorder, stop: asyncio.Event, every: float = 0.05) -> list[float]:
    """How late the driver's event loop wakes up: a busy driver inflates every latency it measures by this much."""
    lags = []
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(every)
        lags.append(time.perf_counter() - started - every)
    return lags


async def closed_loop(
    base_url: str, step: str, path: str, cookies: dict[str, str], concurrency: int, duration: float
) -> tuple[Recorder, float]:
    """``concurrency`` clients requesting ``path`` back to back for ``duration`` seconds: the server's capacity."""
    recorder = Recorder()
    browsers = [Browser(base_url, recorder) for _ in range(concurrency)]
    for browser in browsers:
        browser.cookies.update(cookies)

    async def loop(browser: Browser) -> None:
        while recorder.now() < duration:
            await browser.send(step, "GET", path)

    try:
        await asyncio.gather(*(loop(b) for b in browsers))
    finally:
        await asyncio.gather(*(b.close() for b in browsers))
    return recorder, recorder.now()
