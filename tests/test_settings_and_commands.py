"""Settings from the environment, the first-run commands, and the migrations on disk."""

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from experiment.codes import JOIN_CODE_ALPHABET, JOIN_CODE_LENGTH, new_join_code, normalise_join_code
from experiment.models import LabSession, SessionStatus

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_settings(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = load_settings(DEBUG="0", ALLOWED_HOSTS="lab.example.org")
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = load_settings(DEBUG="0", SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "Set ALLOWED_HOSTS" in result.stderr


def test_production_starts_with_a_real_secret_and_hosts():
    result = load_settings(DEBUG="0", SECRET_KEY="k" * 50, ALLOWED_HOSTS="lab.example.org")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_a_malformed_boolean_is_refused_by_name():
    result = load_settings(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def test_join_codes_use_the_unambiguous_alphabet():
    codes = {new_join_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == JOIN_CODE_LENGTH and set(c) <= set(JOIN_CODE_ALPHABET) for c in codes)
    assert not set("0O1IL2Z5S8B") & set(JOIN_CODE_ALPHABET)


def test_typed_codes_are_normalised():
    assert normalise_join_code(" acde-3479\n") == "ACDE3479"


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


@pytest.mark.django_db
def test_create_session_prints_the_code_and_url(experiment):
    out = StringIO()
    call_command("create_session", "--open", "--capacity", "40", "--closes-at", "2030-01-01T12:00+01:00", stdout=out)
    session = LabSession.objects.get()
    assert session.status == SessionStatus.OPEN
    assert session.capacity == 40
    assert session.closes_at.isoformat() == "2030-01-01T11:00:00+00:00"
    assert f"/join/{session.join_code}/" in out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "No experiment 'nope'"),
        (["--closes-at", "tomorrow"], "is not an ISO date-time"),
        (["--closes-at", "2030-01-01T12:00"], "needs a time zone offset"),
        (["--capacity", "0"], "--capacity must be 1 or more"),
    ],
)
def test_create_session_refuses_bad_arguments(experiment, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_session", *args)
    assert LabSession.objects.count() == 0


@pytest.mark.django_db
def test_create_session_needs_a_slug_when_there_is_no_single_experiment():
    with pytest.raises(CommandError, match="Name the experiment"):
        call_command("create_session")


@pytest.mark.django_db
def test_setup_demo_makes_an_admin_and_one_open_session(experiment, monkeypatch):
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    out = StringIO()
    call_command("setup_demo", experiment.slug, stdout=out)
    call_command("setup_demo", experiment.slug, stdout=out)
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert LabSession.objects.filter(status=SessionStatus.OPEN).count() == 1
    text = out.getvalue()
    assert text.count("(shown once)") == 1
    password = text.split("password ", 1)[1].split(" ", 1)[0]
    assert admin.check_password(password)
    assert f"/join/{LabSession.objects.get().join_code}/" in text


@pytest.mark.django_db
def test_setup_demo_takes_the_admin_password_from_the_environment(experiment, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "a-long-demo-password")
    out = StringIO()
    call_command("setup_demo", experiment.slug, stdout=out)
    assert get_user_model().objects.get(username="admin").check_password("a-long-demo-password")
    assert "a-long-demo-password" not in out.getvalue()


@pytest.mark.django_db
def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
