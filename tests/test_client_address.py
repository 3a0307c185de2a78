"""One client address for everything that limits or locks by address: X-Forwarded-For counts only from the proxy."""

from ipaddress import ip_network

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from config.client import client_address
from config.env import env_int, env_networks

PROXY = "10.0.0.2"


@pytest.fixture
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXIES = (ip_network(PROXY),)


def request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_behind_the_proxy_the_client_is_the_address_the_proxy_appended(behind_one_proxy):
    assert client_address(request(PROXY, "203.0.113.5")) == "203.0.113.5"


def test_what_a_client_writes_in_the_header_itself_is_not_believed(behind_one_proxy):
    assert client_address(request(PROXY, "6.6.6.6, 203.0.113.5")) == "203.0.113.5"


def test_a_client_that_reaches_the_app_directly_is_its_own_address_whatever_it_forwards(behind_one_proxy):
    assert client_address(request("203.0.113.5", "6.6.6.6")) == "203.0.113.5"


def test_two_proxies_read_the_entry_the_first_one_appended(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    settings.TRUSTED_PROXIES = (ip_network("10.0.0.0/24"),)
    assert client_address(request("10.0.0.7", "6.6.6.6, 203.0.113.5, 10.0.0.3")) == "203.0.113.5"


def test_without_a_proxy_count_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request("127.0.0.1", "203.0.113.5")) == "127.0.0.1"


@pytest.mark.parametrize("forwarded", [None, "", "not-an-address", " , "])
def test_a_missing_or_malformed_header_from_the_proxy_gives_the_proxys_own_address(behind_one_proxy, forwarded):
    assert client_address(request(PROXY, forwarded)) == PROXY


def test_the_proxies_may_be_named_as_networks(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXIES = (ip_network("172.30.80.0/24"), ip_network("::1"))
    assert client_address(request("172.30.80.10", "2001:db8::7")) == "2001:db8::7"
    assert client_address(request("::1", "203.0.113.5")) == "203.0.113.5"
    assert client_address(request("172.30.81.10", "203.0.113.5")) == "172.30.81.10"


def test_the_proxy_variable_takes_addresses_and_networks_and_refuses_a_wildcard(monkeypatch):
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "172.30.80.10, 10.1.0.0/16,::1")
    assert env_networks("FORWARDED_ALLOW_IPS", "") == (
        ip_network("172.30.80.10"),
        ip_network("10.1.0.0/16"),
        ip_network("::1"),
    )
    for wrong in ["*", "proxy", "10.0.0.300"]:
        monkeypatch.setenv("FORWARDED_ALLOW_IPS", wrong)
        with pytest.raises(ImproperlyConfigured, match="FORWARDED_ALLOW_IPS"):
            env_networks("FORWARDED_ALLOW_IPS", "")


def test_a_limit_from_the_environment_must_be_a_whole_number_at_least_its_minimum(monkeypatch):
    monkeypatch.setenv("JOIN_GUESS_LIMIT_PER_ADDRESS", "50")
    assert env_int("JOIN_GUESS_LIMIT_PER_ADDRESS", 200, minimum=1) == 50
    for wrong in ["0", "ten", "1.5"]:
        monkeypatch.setenv("JOIN_GUESS_LIMIT_PER_ADDRESS", wrong)
        with pytest.raises(ImproperlyConfigured, match="JOIN_GUESS_LIMIT_PER_ADDRESS"):
            env_int("JOIN_GUESS_LIMIT_PER_ADDRESS", 200, minimum=1)
