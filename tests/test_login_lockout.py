"""Staff logins lock per client address, as seen through the proxy: a guessing client locks itself, nobody else."""

from ipaddress import ip_network

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from tests.conftest import staff_user

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"
A = "203.0.113.5"
B = "198.51.100.7"


@pytest.fixture(autouse=True)
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXIES = (ip_network(PROXY),)


@pytest.fixture
def researcher_account(db):
    return staff_user("rita")


def through_proxy(client_ip: str, written_by_client: str = "") -> Client:
    """A browser at ``client_ip``: nginx appends that address to whatever X-Forwarded-For the browser sent."""
    forwarded = f"{written_by_client}, {client_ip}" if written_by_client else client_ip
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


def login(client: Client, username: str, password: str) -> int:
    return client.post(reverse("admin:login"), {"username": username, "password": password}).status_code


def test_five_wrong_passwords_from_one_client_lock_that_client_only(researcher_account):
    guesser = through_proxy(A)
    for _ in range(4):
        assert login(guesser, "rita", "wrong") == 200
    assert login(guesser, "rita", "wrong") == 429
    assert login(guesser, "rita", "pw-rita") == 429
    assert login(through_proxy(B), "rita", "pw-rita") == 302
    # The researcher's success elsewhere does not release the guessing client, whatever username it tries next.
    assert login(through_proxy(A), "rita", "pw-rita") == 429
    assert login(through_proxy(A), "someone-else", "wrong") == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {A}


def test_a_client_cannot_escape_the_lockout_by_writing_its_own_forwarded_for(researcher_account):
    for i in range(5):
        login(through_proxy(A, written_by_client=f"192.0.2.{i}"), "rita", "wrong")
    assert login(through_proxy(A, written_by_client="192.0.2.99"), "rita", "pw-rita") == 429


def test_a_client_that_reaches_the_app_directly_cannot_pick_its_address(researcher_account):
    for i in range(5):
        login(Client(REMOTE_ADDR=A, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}"), "rita", "wrong")
    assert login(Client(REMOTE_ADDR=A, HTTP_X_FORWARDED_FOR="192.0.2.99"), "rita", "pw-rita") == 429
    assert login(through_proxy(B), "rita", "pw-rita") == 302
