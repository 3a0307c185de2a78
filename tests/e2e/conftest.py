"""Browser, accessibility and valid-HTML gates: Debian's Chromium driven by pytest-playwright against a live server.

Without /usr/bin/chromium the browser tests skip (a laptop's `make test` still passes); without Java or the npm
packages (`npm ci`, see .ci/browser-deps) the axe and vnu checks skip. CI installs all of them.
"""

import importlib
import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, Permission, User
from django.db import connections
from django.test import Client
from playwright.sync_api import Page
from slugify import slugify

from experiment import definition
from experiment.models import Experiment, LabSession
from experiment.roles import INSTRUCTOR, RESEARCHER
from experiment.services import participation, sessions

ROOT = Path(django_settings.BASE_DIR)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
EXPERIMENT_FILE = ROOT / "fixtures" / "kubernetes-pod-dfd.json"
SCREENSHOTS = ROOT / "test-results"
# WCAG 2.1 level A and AA: the level ThreatLab holds.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE_WIDTH = 320
STAFF_PASSWORD = "e2e-Instructor-pw-7f3a"

# The live server answers from its own thread, so its tests commit for real and the tables are emptied afterwards.
live_db = pytest.mark.django_db(transaction=True)


# -- the browser ----------------------------------------------------------------------------------------------------


BROWSER_FIXTURES = {"browser", "page", "context", "new_context"}


def uses_the_browser(item: pytest.Item) -> bool:
    return bool(BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last, after pytest-django's ordering. From the first of them Playwright's event loop runs in
    this thread until the session ends, and Django's guard against database calls from async code has to be lifted
    (see `playwright`); no other test should run in that state, nor start a subprocess that inherits it."""
    items.sort(key=uses_the_browser)


@pytest.fixture(scope="session")
def _django_beside_playwrights_loop():
    # Playwright's sync API leaves its asyncio loop marked as running in this thread, so Django takes every ORM call
    # of the (plain synchronous) test code for one made from async code and raises SynchronousOnlyOperation.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="session")
def playwright(_django_beside_playwrights_loop, playwright):
    """pytest-playwright's own, started once Django's async guard is lifted (the argument order says so)."""
    return playwright


@pytest.fixture(autouse=True)
def _close_connections_afterwards(request):
    """Close the database connections a browser test opened: under Playwright they are not the ones pytest-django
    closes, and one left open stops PostgreSQL from dropping the test database at the end."""
    yield
    if uses_the_browser(request.node):
        connections.close_all()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """One Debian Chromium for the whole run (pytest-playwright's `browser` fixture is session-scoped)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install it with .ci/browser-deps (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # No bypass_csp: the pages are tested under their real Content-Security-Policy, so a script or style the policy
    # blocks breaks the flow here as it would for a student. axe goes in through add_init_script (see `axe`), which
    # the policy does not cover; page.add_script_tag would insert an inline <script> that it blocks.
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "en"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing browser test leaves a full-page screenshot of each of its pages in test-results/."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    browser = getattr(item, "funcargs", {}).get("browser")
    if browser is None:
        return
    # Every page still open: the test's `page` and those of contexts it made itself (one per student).
    pages = [page for context in browser.contexts for page in context.pages]
    SCREENSHOTS.mkdir(exist_ok=True)
    for number, page in enumerate(pages, start=1):
        if page.is_closed():
            continue
        path = SCREENSHOTS / f"{slugify(item.nodeid)}-{number}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
        except Exception as error:  # a screenshot must never hide the test's own failure
            report.sections.append(("screenshot", f"could not save {path}: {error}"))
        else:
            report.sections.append(("screenshot", f"saved {path} ({page.url})"))


def collect_console_errors(page: Page) -> list[str]:
    """What goes wrong in the page from now on: a script error, something the CSP refuses, a failed request."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    # "Failed to load resource" names no URL; the response handler below does. The browser asks for /favicon.ico
    # on its own and ThreatLab has none: that 404 is no fault of a page.
    page.on(
        "console",
        lambda message: (
            errors.append(f"{page.url}: {message.text}")
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.request.method} {response.url}: {response.status}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    return errors


# -- data -------------------------------------------------------------------------------------------------------------


@pytest.fixture
def kubernetes(db) -> Experiment:
    """The real experiment (two arms, real SVG diagrams and material), as `make run` loads it."""
    return definition.load(definition.read_file(EXPERIMENT_FILE))


@pytest.fixture
def open_lab(kubernetes) -> LabSession:
    return sessions.create_session(kubernetes, label="E2E lab", open_now=True)


def instructor_group() -> Group:
    """The Instructor group as migrations 0003 and 0013 make it. A transactional test empties every table afterwards,
    groups included; serialized_rollback cannot put them back here, because Playwright runs the test in another context
    than the one that set up the database, where the connection has no serialized copy."""
    roles = importlib.import_module("experiment.migrations.0003_roles")
    release = importlib.import_module("experiment.migrations.0016_release_feedback_permission").RELEASE
    group, _ = Group.objects.get_or_create(name=INSTRUCTOR)
    group.permissions.set(
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in [*roles.INSTRUCTOR_PERMISSIONS, ("experiment", release)]
    )
    return group


def staff_user(settings, username: str, group: Group) -> User:
    # A fast hash for a throwaway account: the default one takes half a second per login.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = User.objects.create_user(username, password=STAFF_PASSWORD, is_staff=True)
    user.groups.add(group)
    return user


@pytest.fixture
def instructor_user(db, settings) -> User:
    return staff_user(settings, "e2e-instructor", instructor_group())


@pytest.fixture
def staff_page(page: Page, live_server, instructor_user) -> Page:
    """A page logged in as an instructor (session cookie from the test client; the login form has its own test)."""
    client = Client()
    client.force_login(instructor_user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    return page


def enrol(session: LabSession):
    return participation.enrol(session, uuid.uuid4())


# -- axe-core -------------------------------------------------------------------------------------------------------


@pytest.fixture
def axe(page: Page):
    """check(page, name) runs axe-core's WCAG 2.1 A/AA rules on the page as it is now; returns readable violations."""
    if not AXE_JS.exists():
        pytest.skip(f"{AXE_JS.relative_to(ROOT)} is missing: run `npm ci` (.ci/browser-deps)")
    # Evaluated by the browser before each document's own scripts, outside the page's CSP (see browser_context_args).
    page.context.add_init_script(path=str(AXE_JS))

    def check(target: Page, name: str) -> list[str]:
        results = target.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
        return [describe_violation(name, target.url, violation) for violation in results["violations"]]

    return check


def describe_violation(name: str, url: str, violation: dict, shown: int = 3) -> str:
    """One axe violation: the rule, its impact and help link, and the first few elements with what is wrong."""
    nodes = violation["nodes"]
    lines = [f"{name} ({url}): {violation['id']} [{violation['impact']}] {violation['help']} ({violation['helpUrl']})"]
    for node in nodes[:shown]:
        # failureSummary starts with "Fix any/all of the following:"; the lines after it say what is wrong.
        reasons = [line.strip() for line in node["failureSummary"].splitlines()[1:] if line.strip()]
        lines.append(f"    {' '.join(map(str, node['target']))}: {'; '.join(reasons)}")
    if len(nodes) > shown:
        lines.append(f"    ... and {len(nodes) - shown} more element(s)")
    return "\n".join(lines)


def horizontal_overflow(page: Page, name: str) -> list[str]:
    """A problem when the page scrolls sideways at 320 CSS px (WCAG 1.4.10 Reflow), naming the widest elements."""
    size = page.viewport_size
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 640})
    try:
        width = page.evaluate("document.documentElement.scrollWidth")
        if width <= PHONE_WIDTH:
            return []
        culprits = page.evaluate(
            """limit => [...document.querySelectorAll('body *')]
                .filter(el => el.getBoundingClientRect().right > limit + 0.5)
                .slice(0, 5)
                .map(el => [el.tagName.toLowerCase(), el.id && '#' + el.id,
                            typeof el.className === 'string' && el.className.trim() && '.' + el.className.trim(),
                            ' right=' + Math.round(el.getBoundingClientRect().right)].filter(Boolean).join(''))""",
            PHONE_WIDTH,
        )
        return [f"{name} ({page.url}): {width} px wide at {PHONE_WIDTH} px; overflowing: {culprits}"]
    finally:
        page.set_viewport_size(size)


# -- the Nu HTML Checker ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def vnu():
    """check(files) runs the Nu HTML Checker on saved HTML files and returns its errors, one readable line each."""
    java = shutil.which("java")
    if java is None:
        pytest.skip("java is missing: install a JRE (.ci/browser-deps installs default-jre-headless)")
    if not VNU_JAR.exists():
        pytest.skip(f"{VNU_JAR.relative_to(ROOT)} is missing: run `npm ci` (.ci/browser-deps)")

    def check(files: list[Path]) -> list[str]:
        result = subprocess.run(
            # -Xss: vnu's schemas recurse deeply; the other two only make a short-lived JVM start faster.
            [java, "-Xss4m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(VNU_JAR)]
            + ["--errors-only", "--format", "json", "--stdout", *map(str, files)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode not in (0, 1) or not result.stdout.strip():
            raise AssertionError(f"vnu did not run (exit {result.returncode}): {result.stderr}")
        return [
            f"{Path(message.get('url', '?')).name}:{message.get('lastLine', '?')}: {message['message']}"
            + (f"\n    {message['extract'].strip()}" if message.get("extract") else "")
            for message in json.loads(result.stdout)["messages"]
            if message["type"] in ("error", "non-document-error")
        ]

    return check


def researcher_group() -> Group:
    """The Researcher group as migration 0003 makes it (see instructor_group for why it is rebuilt here)."""
    roles = importlib.import_module("experiment.migrations.0003_roles")
    group, _ = Group.objects.get_or_create(name=RESEARCHER)
    group.permissions.set(Permission.objects.filter(content_type__app_label__in=roles.RESEARCHER_APPS))
    return group


@pytest.fixture
def researcher_user(db, settings) -> User:
    return staff_user(settings, "e2e-researcher", researcher_group())
