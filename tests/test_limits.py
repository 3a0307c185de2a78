"""Limits per client address that hold: wrong join codes, wrong participant codes, new participants per session.

They count per address in the shared cache (not per browser, not in Django's session), never refuse a right code,
answer 429 with a message past the limit, and let the lab go on when their cache is down.
"""

import logging
import os
import subprocess
import sys
import time
import uuid

import pytest
from django.contrib.sessions.models import Session
from django.forms import modelform_factory
from django.test import Client
from django.urls import reverse

from experiment import throttle
from experiment.models import LabSession, Participant
from experiment.rehearsal import simulate
from experiment.services import sessions
from tests.conftest import on_postgres
from tests.helpers import consent_post
from tests.test_concurrency import run_at_once

pytestmark = pytest.mark.django_db
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REDIS_URL = os.environ.get("THREATLAB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def join(client: Client, code: str):
    return client.post(reverse("experiment:join"), {"code": code})


def consent(address: str, join_code: str, decision: str = "consent"):
    """A consent as a cookieless client at ``address`` sends it: a fresh entry token, no cookie that remembers a
    participant it made before."""
    data = {"entry_token": str(uuid.uuid4()), "decision": decision, "statement_take_part": "on"}
    return Client(REMOTE_ADDR=address).post(reverse("experiment:consent", args=[join_code]), data)


def test_wrong_join_codes_past_the_limit_are_answered_429_even_without_cookies(lab, settings):
    settings.JOIN_GUESS_LIMIT_PER_ADDRESS = 15
    for i in range(15):
        assert join(Client(REMOTE_ADDR="203.0.113.9"), f"WRONG{i:03d}").status_code == 400
    blocked = join(Client(REMOTE_ADDR="203.0.113.9"), "WRONG999")
    assert blocked.status_code == 429
    assert b"Too many wrong session codes" in blocked.content
    assert Client(REMOTE_ADDR="203.0.113.9").get(reverse("experiment:consent", args=["NOPENOPE"])).status_code == 429
    assert join(Client(REMOTE_ADDR="198.51.100.7"), "WRONG999").status_code == 400
    assert Participant.objects.count() == 0


def test_a_wrong_code_in_a_join_link_counts_as_a_guess(lab, settings):
    settings.JOIN_GUESS_LIMIT_PER_ADDRESS = 3
    link = reverse("experiment:consent", args=["NOPENOPE"])
    assert [Client(REMOTE_ADDR="203.0.113.9").get(link).status_code for _ in range(4)] == [404, 404, 404, 429]


def test_a_blocked_address_is_never_refused_the_right_code(lab, settings):
    settings.JOIN_GUESS_LIMIT_PER_ADDRESS = 5
    for i in range(8):
        join(Client(REMOTE_ADDR="192.0.2.1"), f"WRONG{i:03d}")
    student = Client(REMOTE_ADDR="192.0.2.1")
    assert join(student, lab.join_code.lower()).status_code == 302
    assert student.get(reverse("experiment:consent", args=[lab.join_code])).status_code == 200
    participant = consent_post(student, lab.join_code)
    assert participant.session == lab
    assert join(Client(REMOTE_ADDR="192.0.2.1"), "WRONG999").status_code == 429


def test_wrong_participant_codes_are_limited_per_address_and_a_right_one_still_resumes(lab, settings):
    settings.RESUME_GUESS_LIMIT_PER_ADDRESS = 4
    participant = consent_post(Client(), lab.join_code)
    wrong = [str(uuid.uuid4()) for _ in range(4)] + ["not-a-code"]
    statuses = [
        Client(REMOTE_ADDR="203.0.113.9").post(reverse("experiment:resume"), {"participant_code": code}).status_code
        for code in wrong
    ]
    assert statuses == [400, 400, 400, 400, 429]
    blocked = Client(REMOTE_ADDR="203.0.113.9").post(reverse("experiment:resume"), {"participant_code": "x"})
    assert b"Too many wrong participant codes" in blocked.content
    right = Client(REMOTE_ADDR="203.0.113.9").post(reverse("experiment:resume"), {"participant_code": participant.code})
    assert right.status_code == 302 and right["Location"] == reverse("experiment:training", args=[participant.code])


def test_an_empty_code_is_not_counted_as_a_guess(lab, settings):
    settings.JOIN_GUESS_LIMIT_PER_ADDRESS = 1
    for _ in range(3):
        assert join(Client(), "  ").status_code == 400
        assert Client().post(reverse("experiment:resume"), {"participant_code": ""}).status_code == 400


def test_anonymous_wrong_guesses_write_no_session_row(lab, settings):
    settings.JOIN_GUESS_LIMIT_PER_ADDRESS = 2
    settings.RESUME_GUESS_LIMIT_PER_ADDRESS = 2
    for i in range(4):
        join(Client(), f"WRONG{i:03d}")
        Client().get(reverse("experiment:consent", args=[f"NOPE{i:04d}"]))
        Client().post(reverse("experiment:resume"), {"participant_code": str(uuid.uuid4())})
    assert Session.objects.count() == 0


def test_sixty_students_behind_one_nat_address_all_join_with_the_defaults(lab):
    statuses = []
    for i in range(60):
        student = Client(REMOTE_ADDR="192.0.2.1")
        if i % 10 == 0:  # a few typos on the way, as in a real class
            join(student, "TYPOTYPO")
        assert join(student, lab.join_code).status_code == 302
        statuses.append(consent("192.0.2.1", lab.join_code).status_code)
    assert statuses == [302] * 60
    assert Participant.objects.filter(session=lab).count() == 60


def test_a_flood_of_consents_from_one_address_stops_at_the_default_limit(lab, settings):
    assert settings.NEW_PARTICIPANTS_PER_ADDRESS == 200
    flooder = "203.0.113.66"
    statuses = [consent(flooder, lab.join_code).status_code for _ in range(230)]
    assert statuses == [302] * 200 + [429] * 30
    refused = consent(flooder, lab.join_code)
    assert b"Too many students have joined this session from your network" in refused.content
    assert Participant.objects.filter(session=lab).count() == 200
    # Another address, another session: each counts on its own.
    assert consent("198.51.100.7", lab.join_code).status_code == 302
    other = sessions.create_session(lab.experiment, open_now=True)
    assert consent(flooder, other.join_code).status_code == 302


def test_a_session_sets_its_own_limit_and_declines_count_too(lab):
    LabSession.objects.filter(pk=lab.pk).update(new_participants_per_address=3)
    decisions = ["consent", "decline", "consent", "consent"]
    statuses = [consent("203.0.113.66", lab.join_code, decision) for decision in decisions]
    assert [response.status_code for response in statuses] == [302, 302, 302, 429]
    lab.refresh_from_db()
    assert Participant.objects.filter(session=lab).count() == 2 and lab.declined_count == 1


def test_capacity_still_guards_the_seats(lab):
    LabSession.objects.filter(pk=lab.pk).update(capacity=3)
    statuses = [consent("203.0.113.66", lab.join_code).status_code for _ in range(5)]
    assert statuses == [302, 302, 302, 403, 403]
    assert Participant.objects.filter(session=lab).count() == 3


def test_rehearsal_bots_do_not_count_against_the_address(lab):
    LabSession.objects.filter(pk=lab.pk).update(new_participants_per_address=2)
    lab.refresh_from_db()
    assert len(simulate(lab, 4, seed=1)) == 4
    assert consent("127.0.0.1", lab.join_code).status_code == 302


def test_a_limit_below_one_is_refused_by_the_sessions_form(lab):
    form_class = modelform_factory(LabSession, fields=["new_participants_per_address"])
    assert not form_class({"new_participants_per_address": "0"}, instance=lab).is_valid()
    assert form_class({"new_participants_per_address": ""}, instance=lab).is_valid()


# -- with Redis: shared by processes, and failing open -----------------------------------------------------------


def redis_cache(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "threatlab",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }


@pytest.fixture
def on_redis(settings):
    """The limits on the test Redis, under a secret of their own, so no other run's counts are seen."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL} (.ci/run starts one)")
    settings.CACHES = {**settings.CACHES, **redis_cache(REDIS_URL)}
    settings.SECRET_KEY = "limits-" + uuid.uuid4().hex * 2
    return settings


def test_wrong_guesses_counted_in_one_process_block_the_address_in_another(lab, on_redis):
    on_redis.JOIN_GUESS_LIMIT_PER_ADDRESS = 3
    for i in range(3):
        assert join(Client(REMOTE_ADDR="203.0.113.9"), f"WRONG{i:03d}").status_code == 400
    script = (
        "import django; django.setup()\n"
        "from django.test import RequestFactory\n"
        "from experiment import throttle\n"
        "for address in ['203.0.113.9', '198.51.100.7']:\n"
        "    print(throttle.wrong_code(RequestFactory().post('/join/', REMOTE_ADDR=address), throttle.JOIN))\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": on_redis.SECRET_KEY,
        "JOIN_GUESS_LIMIT_PER_ADDRESS": "3",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]
    assert join(Client(REMOTE_ADDR="203.0.113.9"), "WRONG999").status_code == 429


def test_with_redis_down_the_lab_goes_on_and_the_outage_is_logged_once(lab, settings, caplog, monkeypatch):
    monkeypatch.setattr(throttle, "_cache_down", False)
    pytest.importorskip("redis")
    settings.CACHES = {**settings.CACHES, **redis_cache("redis://127.0.0.1:1/0")}
    settings.JOIN_GUESS_LIMIT_PER_ADDRESS = 1
    settings.NEW_PARTICIPANTS_PER_ADDRESS = 1
    with caplog.at_level(logging.WARNING, logger="experiment.throttle"):
        assert [join(Client(), f"WRONG{i:03d}").status_code for i in range(3)] == [400, 400, 400]
        assert [consent("127.0.0.1", lab.join_code).status_code for _ in range(3)] == [302, 302, 302]
    assert Participant.objects.count() == 3
    errors = [r for r in caplog.records if r.name == "experiment.throttle"]
    assert len(errors) == 1 and errors[0].levelname == "ERROR" and "Limits are off" in errors[0].getMessage()
    caplog.clear()
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with caplog.at_level(logging.WARNING, logger="experiment.throttle"):
        join(Client(), "WRONG999")
    again = [r.getMessage() for r in caplog.records if r.name == "experiment.throttle"]
    assert again == ["Limits are on again: their cache answers."]


def test_the_counts_expire_with_their_window(lab, settings):
    settings.JOIN_GUESS_LIMIT_PER_ADDRESS = 1
    settings.JOIN_GUESS_WINDOW_SECONDS = 1
    join(Client(), "WRONG001")
    assert join(Client(), "WRONG002").status_code == 429
    time.sleep(1.1)
    assert join(Client(), "WRONG003").status_code == 400


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not on_postgres(), reason="needs PostgreSQL: SQLite serialises every writer, so no race shows")
def test_a_burst_of_consents_at_the_same_instant_admits_exactly_the_limit(lab, on_redis):
    LabSession.objects.filter(pk=lab.pk).update(new_participants_per_address=10)
    statuses = run_at_once(30, lambda i: consent("203.0.113.66", lab.join_code).status_code)
    assert sorted(statuses) == [302] * 10 + [429] * 20
    assert Participant.objects.filter(session=lab).count() == 10
