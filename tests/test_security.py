"""Security gates: headers, deploy checks, login throttling, CSRF, no-store, no personal data. The limits per
address are in test_limits.py, the lockout per client in test_login_lockout.py."""

import os
import secrets
import subprocess
import sys

import pytest
from django.test import Client
from django.urls import reverse

from experiment.models import Answer, Participant, UsefulnessRating
from tests.conftest import staff_user
from tests.helpers import consent_post, threat_answers, url

pytestmark = pytest.mark.django_db
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_every_page_carries_a_csp_without_unsafe_inline_and_the_other_headers(client, lab, researcher):
    participant = consent_post(client, lab.join_code)
    admin = Client()
    admin.force_login(researcher)
    pages = [
        client.get("/"),
        client.get(reverse("experiment:consent", args=[lab.join_code])),
        client.get(url("training", participant)),
        admin.get(reverse("admin:index")),
        admin.get(reverse("admin:experiment_labsession_monitor", args=[lab.pk])),
        admin.get(reverse("admin:experiment_labsession_join_sheet", args=[lab.pk])),
    ]
    for response in pages:
        policy = response["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_no_page_has_an_inline_script(client, lab, researcher):
    participant = consent_post(client, lab.join_code)
    for path in ["/", url("training", participant)]:
        content = client.get(path).content.decode()
        assert "<script>" not in content and "onclick=" not in content


def deploy_env(**extra) -> dict:
    # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests' live server; production never has it.
    unwanted = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unwanted}
    return {**env, "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "lab.example.org", **extra}


def test_production_settings_pass_the_deploy_check_at_warning_level():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=deploy_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_behind_the_tls_proxy_https_is_trusted_and_plain_http_redirected():
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "c = Client(HTTP_HOST='lab.example.org')\n"
        "print(c.get('/healthz').status_code, c.get('/healthz').get('Location'))\n"
        "r = c.get('/healthz', HTTP_X_FORWARDED_PROTO='https')\n"
        "print(r.status_code, r.get('Strict-Transport-Security'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=deploy_env(
            DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=f"sqlite:///{ROOT}/db/deploy-check.sqlite3"
        ),
    )
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first == "301 https://lab.example.org/healthz"
    assert second.startswith("200 max-age=31536000; includeSubDomains; preload")


def test_admin_logins_are_locked_at_the_fifth_failure(db):
    staff_user("alice")
    client = Client()
    for _ in range(4):
        response = client.post(reverse("admin:login"), {"username": "alice", "password": "wrong"})
        assert response.status_code == 200
    assert client.post(reverse("admin:login"), {"username": "alice", "password": "wrong"}).status_code == 429
    locked = client.post(reverse("admin:login"), {"username": "alice", "password": "pw-alice"})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_correct_login_works(db):
    staff_user("bob")
    response = Client().post(reverse("admin:login"), {"username": "bob", "password": "pw-bob"})
    assert response.status_code == 302


@pytest.mark.parametrize("stage", ["consent", "training", "threats"])
def test_state_changes_need_the_csrf_token(lab, stage):
    browser = Client(enforce_csrf_checks=True)
    participant = consent_post(Client(), lab.join_code)
    if stage == "consent":
        response = browser.post(reverse("experiment:consent", args=[lab.join_code]), {"decision": "consent"})
    elif stage == "training":
        response = browser.post(url("training", participant))
    else:
        response = browser.post(url("threats", participant), threat_answers(participant))
    assert response.status_code == 403
    participant.refresh_from_db()
    assert participant.stage == "training"
    assert Answer.objects.count() == 0


def test_admin_state_changes_need_the_csrf_token(lab, instructor):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(instructor)
    response = browser.post(reverse("admin:experiment_labsession_set_status", args=[lab.pk]), {"status": "closed"})
    assert response.status_code == 403
    lab.refresh_from_db()
    assert lab.status == "open"


def test_staff_pages_are_never_cached(lab, researcher):
    admin = Client()
    admin.force_login(researcher)
    for name in ("monitor", "monitor_data", "codes"):
        response = admin.get(reverse(f"admin:experiment_labsession_{name}", args=[lab.pk]))
        assert "no-store" in response["Cache-Control"], name


def test_student_pages_are_not_cached(client, lab):
    participant = consent_post(client, lab.join_code)
    assert "no-store" in client.get(url("training", participant))["Cache-Control"]


def test_the_schema_holds_no_personal_data():
    suspicious = ("name", "email", "mail", "student", "ip", "address", "phone", "birth", "user")
    for model in (Participant, Answer, UsefulnessRating):
        for field in model._meta.get_fields():
            words = field.name.lower().split("_")
            assert not set(words) & set(suspicious), f"{model.__name__}.{field.name}"


def test_one_participant_cannot_read_another_participants_diagrams_or_pages(client, lab, make_participant):
    other = make_participant()
    mine = consent_post(client, lab.join_code)
    assert client.get(f"/p/{mine.code}/diagrams/nope.svg").status_code == 404
    assert str(other.code) not in client.get(url("training", mine)).content.decode()


def test_logs_never_carry_answers_next_to_a_participant_code(client, lab, caplog):
    import logging

    from tests.helpers import usefulness_answers

    caplog.set_level(logging.DEBUG)
    participant = consent_post(client, lab.join_code)
    client.post(url("training", participant))
    participant.refresh_from_db()
    bad = threat_answers(participant)
    bad["threat_999999"] = "applicable"
    client.post(url("threats", participant), bad)  # refused: a 400 that Django logs
    client.post(url("threats", participant), threat_answers(participant))
    client.post(url("usefulness", participant), {**usefulness_answers(participant), "comment": "SECRET-COMMENT"})
    client.get(f"/p/{participant.code}/diagrams/missing.svg")  # a 404 that Django logs
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Bad Request" in logged and "Not Found" in logged, "the refused and missing requests were logged"
    assert "applicable" not in logged and "SECRET-COMMENT" not in logged
    for record in caplog.records:
        assert not (str(participant.code) in record.getMessage() and "rating_" in record.getMessage())
