"""The lab sessions instructors run: creating them, resetting a rehearsal, deleting what a session collected."""

from dataclasses import dataclass

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from experiment.codes import completion_code_for, new_join_code
from experiment.models import Answer, LabSession, Participant, SessionStatus, Stage, UsefulnessRating

# A participant code as the admin log writes it (str of a UUID): lower case, with dashes.
UUID_REGEX = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class RehearsalInUse(Exception):
    """Real students have joined the session, so its rehearsal can no longer be reset; the message says so."""


def unused_join_code() -> str:
    """A join code no session has yet; the unique constraint still decides if two sessions race for one."""
    for _attempt in range(10):
        code = new_join_code()
        if not LabSession.objects.filter(join_code=code).exists():
            return code
    raise RuntimeError("could not draw an unused join code in 10 attempts")


def create_session(
    experiment,
    *,
    label: str = "",
    open_now: bool = False,
    closes_at=None,
    capacity=None,
    new_participants_per_address=None,
) -> LabSession:
    """A new lab session with a fresh join code."""
    return LabSession.objects.create(
        experiment=experiment,
        label=label,
        join_code=unused_join_code(),
        status=SessionStatus.OPEN if open_now else SessionStatus.DRAFT,
        closes_at=closes_at,
        capacity=capacity,
        new_participants_per_address=new_participants_per_address,
    )


def reset_rehearsal(session: LabSession) -> int:
    """Remove a rehearsal's bots (and so their completion codes) and blocks. Raises RehearsalInUse once a real
    student has joined."""
    with transaction.atomic():
        session = LabSession.objects.select_for_update().get(pk=session.pk)
        if session.participants.real().exists():
            raise RehearsalInUse(_("Real students have joined this session; a rehearsal can no longer be reset."))
        removed, _details = session.participants.all().delete()
        session.blocks.all().delete()
    return removed


def issued_codes(session: LabSession) -> list[str]:
    """The completion code of each participant who finished the session, rehearsal bots included, in no
    particular order. Derived again with SECRET_KEY, as the thank-you page derives them: no code is stored, so
    nothing in the database links a code to its participant."""
    finished = session.participants.filter(stage=Stage.DONE).values_list("code", flat=True)
    return [completion_code_for(str(code)) for code in finished]


@dataclass(frozen=True)
class SessionData:
    participants: int
    answers: int
    ratings: int
    blocks: int
    # Codes stop proving completion once their participants go: one per finished participant.
    completion_codes: int
    declined: int


def session_data(session: LabSession) -> SessionData:
    return SessionData(
        participants=session.participants.count(),
        answers=Answer.objects.filter(participant__session=session).count(),
        ratings=UsefulnessRating.objects.filter(participant__session=session).count(),
        blocks=session.blocks.count(),
        completion_codes=session.participants.filter(stage=Stage.DONE).count(),
        declined=session.declined_count,
    )


def delete_session_data(session: LabSession) -> SessionData:
    """Delete everything a session collected (the session itself stays, closed), and the admin log's record of
    its participants (``forget_in_admin_log``). Returns what went."""
    with transaction.atomic():
        session = LabSession.objects.select_for_update().get(pk=session.pk)
        gone = session_data(session)
        forget_in_admin_log(session.participants.values_list("pk", "code"))
        session.participants.all().delete()
        session.blocks.all().delete()
        LabSession.objects.filter(pk=session.pk).update(declined_count=0, status=SessionStatus.CLOSED)
    return gone


FORGOTTEN = "[deleted participant]"


def forget_in_admin_log(participants) -> None:
    """Remove the admin log's entries about these participants (``(pk, code)`` pairs) and their codes from every
    other entry (a session's change names the participants its inline changed): the code is the credential to a
    participant's answers, and the admin log outlives them."""
    pks, codes = set(), set()
    for pk, code in participants:
        pks.add(str(pk))
        codes.add(str(code))
    if not pks:
        return
    participant_type = ContentType.objects.get_for_model(Participant)
    LogEntry.objects.filter(content_type=participant_type, object_id__in=pks).delete()
    naming = LogEntry.objects.filter(Q(object_repr__regex=UUID_REGEX) | Q(change_message__regex=UUID_REGEX))
    for entry in naming.only("object_repr", "change_message"):
        repr_, message = entry.object_repr, entry.change_message
        for code in codes:
            repr_, message = repr_.replace(code, FORGOTTEN), message.replace(code, FORGOTTEN)
        if (repr_, message) != (entry.object_repr, entry.change_message):
            LogEntry.objects.filter(pk=entry.pk).update(object_repr=repr_, change_message=message)
