"""Trying the lab from a phone in the room: `make run-lan` listens on every interface, allows the machine's network
address and prints it; `make run` stays as it was (127.0.0.1)."""

import ipaddress
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from experiment.management.commands.lan_address import lan_address

ROOT = Path(settings.BASE_DIR)
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")


def dry_run(*args: str) -> str:
    """What make would run, without running it (recursive makes are dry runs too)."""
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_lan_address_is_an_ipv4_address_of_this_machine():
    address = ipaddress.ip_address(lan_address())
    assert address.version == 4 and not address.is_unspecified


def test_the_command_prints_the_lan_address():
    out = StringIO()
    call_command("lan_address", stdout=out)
    assert out.getvalue().strip() == lan_address()


@needs_make
def test_make_run_still_listens_on_127_0_0_1_and_prints_that_address():
    commands = dry_run("run")
    assert "setup_demo kubernetes-pod-dfd --base-url http://127.0.0.1:8000" in commands
    assert "runserver 127.0.0.1:8000" in commands


@needs_make
def test_make_run_lan_listens_everywhere_and_allows_and_prints_the_network_address():
    address = lan_address()
    commands = dry_run("run-lan")
    assert f"ALLOWED_HOSTS=localhost,127.0.0.1,[::1],{address} " in commands
    assert f"setup_demo kubernetes-pod-dfd --base-url http://{address}:8000" in commands
    assert "runserver 0.0.0.0:8000" in commands
