"""Personal data that outlives its use: staff login addresses, participant codes in logs, the admin log."""

import io
import logging
import uuid
from datetime import timedelta

import pytest
from axes.models import AccessLog
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
