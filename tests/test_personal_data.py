"""Personal data that outlives its use: staff login addresses, participant codes in logs, the admin log."""

import io
import logging
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessLog
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.log_masking import MaskParticipantCodes
from experiment.models import LabSession, Participant
from experiment.services import sessions
from tests.conftest import staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def app_log():
    """What the app's log handler (settings LOGGING) writes, read back."""
    handler = next(
        h for h in logging.getLogger().handlers if any(isinstance(f, MaskParticipantCodes) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_a_warning_carrying_a_participant_code_is_logged_masked(app_log):
    code = uuid.uuid4()
    logging.getLogger("experiment.views").warning("Participant %s resumed from %s", code, f"/p/{code}/training/")
    logging.getLogger("experiment").warning("Bare hex too: %s", code.hex.upper())
    written = app_log.getvalue()
    assert str(code) not in written and code.hex.upper() not in written
    assert "Participant [code] resumed from /p/[code]/training/" in written
    assert "Bare hex too: [code]" in written


def test_a_page_not_found_for_a_participant_code_is_logged_without_the_code(app_log, lab):
    code = uuid.uuid4()
    assert Client().get(f"/p/{code}/training/").status_code == 404
    written = app_log.getvalue()
    assert "Not Found: /p/[code]/training/" in written and str(code) not in written


def test_an_exception_logged_with_a_code_in_it_is_masked(app_log):
    code = uuid.uuid4()
    try:
        raise KeyError(f"no participant {code}")
    except KeyError:
        logging.getLogger("django.request").exception("Internal Server Error: /p/%s/threats/", code)
    written = app_log.getvalue()
    assert "Traceback" in written and "KeyError: 'no participant [code]'" in written
    assert str(code) not in written


def test_the_staff_login_access_log_keeps_thirty_days_and_its_command_removes_the_rest():
    staff_user("rita")
    assert (
        Client(REMOTE_ADDR="203.0.113.5")
        .post(reverse("admin:login"), {"username": "rita", "password": "pw-rita"})
        .status_code
        == 302
    )
    recent = AccessLog.objects.get()
    assert recent.ip_address == "203.0.113.5"
    old = AccessLog.objects.create(ip_address="198.51.100.7", user_agent="old", username="rita", path_info="/")
    AccessLog.objects.filter(pk=old.pk).update(attempt_time=timezone.now() - timedelta(days=31))
    call_command("axes_reset_logs", "--age", "30", stdout=io.StringIO())
    assert list(AccessLog.objects.values_list("pk", flat=True)) == [recent.pk]


def test_deleting_a_sessions_data_scrubs_its_participants_from_the_admin_log(researcher, lab, make_participant):
    gone, kept_elsewhere = make_participant(), make_participant(sessions.create_session(lab.experiment, open_now=True))
    participant_type = ContentType.objects.get_for_model(Participant)
    session_type = ContentType.objects.get_for_model(LabSession)

    def logged(content_type, object_id, repr_, message=""):
        return LogEntry.objects.create(
            user=researcher,
            content_type=content_type,
            object_id=str(object_id),
            object_repr=repr_,
            action_flag=CHANGE,
            change_message=message,
        )

    about_gone = logged(participant_type, gone.pk, str(gone.code))
    inline = f'[{{"changed": {{"name": "participant", "object": "{gone.code}", "fields": ["stage"]}}}}]'
    session_change = logged(session_type, lab.pk, str(lab), inline)
    about_other = logged(participant_type, kept_elsewhere.pk, str(kept_elsewhere.code))

    client = Client()
    client.force_login(researcher)
    client.post(reverse("admin:experiment_labsession_delete_data", args=[lab.pk]), {"confirm": lab.join_code})

    assert not Participant.objects.filter(pk=gone.pk).exists()
    assert not LogEntry.objects.filter(pk=about_gone.pk).exists()
    session_change.refresh_from_db()
    assert str(gone.code) not in session_change.change_message
    assert session_change.get_change_message() == "Changed stage for participant “[deleted participant]”."
    assert LogEntry.objects.get(pk=about_other.pk).object_repr == str(kept_elsewhere.code)
    assert not LogEntry.objects.filter(object_repr__contains=str(gone.code)).exists()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_nginx_access_log_leaves_participant_codes_out(tmp_path):
    """deploy/nginx.conf as it is, but for its ports, paths and upstream (and `http2 on;`, which Debian's nginx 1.22
    does not know), in front of nothing: a redirect and a 502 are logged like any request."""
    nginx, openssl = shutil.which("nginx"), shutil.which("openssl")
    if not (nginx and openssl):
        pytest.skip("needs nginx and openssl (.ci/run installs nginx)")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
        + ["-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True,
        capture_output=True,
    )
    plain, tls = free_port(), free_port()
    site = (Path(settings.BASE_DIR) / "deploy" / "nginx.conf").read_text()
    for deployed, here in [
        ("listen 80;", f"listen 127.0.0.1:{plain};"),
        ("listen 443 ssl;", f"listen 127.0.0.1:{tls} ssl;"),
        ("http2 on;", ""),
        ("server web:8000;", f"server 127.0.0.1:{free_port()};"),
        ("/etc/nginx/certs/fullchain.pem", str(tmp_path / "cert.pem")),
        ("/etc/nginx/certs/privkey.pem", str(tmp_path / "key.pem")),
        ("/var/log/nginx/access.log", str(tmp_path / "access.log")),
    ]:
        assert deployed in site
        site = site.replace(deployed, here)
    (tmp_path / "site.conf").write_text(site)
    temp_paths = "".join(
        f"  {kind}_temp_path {tmp_path / kind};\n" for kind in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n{temp_paths}  include {tmp_path}/site.conf;\n}}\n"
    )
    server = subprocess.Popen(
        [nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off; master_process off;"],
        stderr=subprocess.PIPE,
    )
    try:
        code = uuid.uuid4()
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", tls), timeout=0.2).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                time.sleep(0.1)
        opener = urllib.request.build_opener(NoRedirect)
        request = urllib.request.Request(
            f"http://127.0.0.1:{plain}/p/{code}/training/", headers={"Referer": f"https://lab/p/{code}/entry/"}
        )
        assert opener.open(request).status == 301
        insecure = ssl.create_default_context()
        insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE
        with pytest.raises(urllib.error.HTTPError) as bad_gateway:
            urllib.request.urlopen(f"https://127.0.0.1:{tls}/p/{code.hex}/threats/", context=insecure)
        assert bad_gateway.value.code == 502
    finally:
        server.terminate()
        server.wait(timeout=10)
    logged = (tmp_path / "access.log").read_text()
    assert '"GET /p/[code]/training/ HTTP/1.1" 301' in logged and '"https://lab/p/[code]/entry/"' in logged
    assert '"GET /p/[code]/threats/ HTTP/1.1" 502' in logged
    assert str(code) not in logged and code.hex not in logged


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def http_error_301(self, req, fp, code, msg, headers):
        return fp
