"""Every write a participant causes, each in one transaction, each safe to repeat.

Stage moves are conditional updates (``stage=<expected>``): the row count says who won, so a second tab, a
double click or a replayed POST changes nothing. The unique constraints stay the final arbiter.
"""

import random
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from experiment.assignment import next_slot, shuffled
from experiment.codes import new_completion_code, new_join_code
from experiment.models import (
    STAGE_TIMESTAMP,
    AllocationBlock,
    Answer,
    CompletionCode,
    LabSession,
    Participant,
    SessionStatus,
    Stage,
    UsefulnessRating,
)

_system_random = random.SystemRandom()


class AdmissionRefused(Exception):
    """The session does not take this student; the message says why, in words for the student."""


def admission_problem(session: LabSession, *, rehearsal: bool = False) -> str | None:
    """Why a session turns new students away right now, or None when it admits them.

    Rehearsal bots may enter a draft session, so that instructors can rehearse before opening it to students.
    """
    now = timezone.now()
    if session.status == SessionStatus.DRAFT and not rehearsal:
        return _("This lab session has not started yet. Ask your instructor when it opens.")
    if session.status == SessionStatus.CLOSED or (session.closes_at and now >= session.closes_at):
        return _("This lab session is closed and takes no new participants.")
    if session.capacity is not None and session.participants.count() >= session.capacity:
        return _("This lab session is full.")
    return None


def enrol(
    session: LabSession,
    entry_token: uuid.UUID,
    *,
    stratum: str = "",
    is_simulated: bool = False,
    rng: random.Random | None = None,
) -> Participant:
    """Admit a consenting student: assign an arm by permuted blocks and fix the threat order.

    Idempotent per ``entry_token``: the same consent form posted again returns the participant it made.
    Raises AdmissionRefused when the session is not open, past its closing time, or full.
    """
    rng = rng or _system_random
    existing = Participant.objects.filter(entry_token=entry_token).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            # The session row serialises allocation: one enrolment at a time per session, so no two
            # participants see the same free slot and the capacity count is exact.
            session = LabSession.objects.select_for_update().get(pk=session.pk)
            problem = admission_problem(session, rehearsal=is_simulated)
            if problem:
                raise AdmissionRefused(problem)
            block = session.blocks.filter(stratum=stratum).order_by("-number").first()
            filled = block.participants.count() if block else 0
            arm_ids = list(session.experiment.arms.order_by("position").values_list("id", flat=True))
            slot = next_slot(block.arm_sequence if block else None, filled, arm_ids, rng)
            if slot.new_block is not None:
                block = AllocationBlock.objects.create(
                    session=session,
                    stratum=stratum,
                    number=(block.number + 1) if block else 1,
                    arm_sequence=list(slot.new_block),
                )
            threat_ids = list(session.experiment.scenario.threats.order_by("position").values_list("id", flat=True))
            return Participant.objects.create(
                entry_token=entry_token,
                session=session,
                arm_id=slot.arm_id,
                block=block,
                block_position=slot.position,
                stratum=stratum,
                threat_order=shuffled(threat_ids, rng),
                is_simulated=is_simulated,
            )
    except IntegrityError:
        # A concurrent POST of the same consent form won the race: its participant is the one.
        winner = Participant.objects.filter(entry_token=entry_token).first()
        if winner is None:
            raise
        return winner


def record_declined(session: LabSession) -> None:
    """Count a declined consent; nothing about the student is kept."""
    LabSession.objects.filter(pk=session.pk).update(declined_count=F("declined_count") + 1)


def _advance(participant: Participant, expected: Stage, target: Stage, **fields) -> bool:
    """Move from ``expected`` to ``target`` if the participant is still at ``expected``; True if this call did."""
    now = timezone.now()
    moved = Participant.objects.filter(pk=participant.pk, stage=expected).update(
        stage=target, last_activity_at=now, **{STAGE_TIMESTAMP[target]: now}, **fields
    )
    if moved:
        participant.refresh_from_db()
    return bool(moved)


def start_threats(participant: Participant) -> bool:
    """Leave the training for the questionnaire. False when the participant was no longer in training."""
    return _advance(participant, Stage.TRAINING, Stage.THREATS)


@dataclass(frozen=True)
class ThreatAnswer:
    threat_id: int
    position: int
    choice: str


def submit_answers(participant: Participant, answers: list[ThreatAnswer]) -> bool:
    """Store one answer per threat and move on to the usefulness item, all or nothing.

    False (and nothing stored) when the answers were already submitted: submitted answers never change.
    """
    with transaction.atomic():
        if not _advance(participant, Stage.THREATS, Stage.USEFULNESS):
            return False
        Answer.objects.bulk_create(
            Answer(participant=participant, threat_id=a.threat_id, position=a.position, choice=a.choice)
            for a in answers
        )
    return True


def submit_usefulness(participant: Participant, ratings: dict[str, int], comment: str) -> str | None:
    """Store the usefulness ratings and the comment and finish, all or nothing.

    Returns the participant's completion code (kept nowhere that links it to them), or None if already done.
    """
    with transaction.atomic():
        if not _advance(participant, Stage.USEFULNESS, Stage.DONE, comment=comment):
            return None
        UsefulnessRating.objects.bulk_create(
            UsefulnessRating(participant=participant, source=source, value=value) for source, value in ratings.items()
        )
        code = CompletionCode.objects.create(code=new_completion_code(), session_id=participant.session_id)
    return code.code


def unused_join_code() -> str:
    """A join code no session has yet; the unique constraint still decides if two sessions race for one."""
    for _attempt in range(10):
        code = new_join_code()
        if not LabSession.objects.filter(join_code=code).exists():
            return code
    raise RuntimeError("could not draw an unused join code in 10 attempts")


def reset_rehearsal(session: LabSession) -> int:
    """Remove a rehearsal's bots, blocks and completion codes. Refused once a real student has joined."""
    with transaction.atomic():
        session = LabSession.objects.select_for_update().get(pk=session.pk)
        if session.participants.real().exists():
            raise AdmissionRefused(_("Real students have joined this session; a rehearsal can no longer be reset."))
        removed, _details = session.participants.all().delete()
        session.blocks.all().delete()
        session.completion_codes.all().delete()
    return removed


@dataclass(frozen=True)
class SessionData:
    participants: int
    answers: int
    ratings: int
    blocks: int
    completion_codes: int
    declined: int


def session_data(session: LabSession) -> SessionData:
    return SessionData(
        participants=session.participants.count(),
        answers=Answer.objects.filter(participant__session=session).count(),
        ratings=UsefulnessRating.objects.filter(participant__session=session).count(),
        blocks=session.blocks.count(),
        completion_codes=session.completion_codes.count(),
        declined=session.declined_count,
    )


def delete_session_data(session: LabSession) -> SessionData:
    """Delete everything a session collected (the session itself stays, closed). Returns what went."""
    with transaction.atomic():
        session = LabSession.objects.select_for_update().get(pk=session.pk)
        gone = session_data(session)
        session.participants.all().delete()
        session.blocks.all().delete()
        session.completion_codes.all().delete()
        LabSession.objects.filter(pk=session.pk).update(declined_count=0, status=SessionStatus.CLOSED)
    return gone


def create_session(experiment, *, label: str = "", open_now: bool = False, closes_at=None, capacity=None) -> LabSession:
    """A new lab session with a fresh join code."""
    return LabSession.objects.create(
        experiment=experiment,
        label=label,
        join_code=unused_join_code(),
        status=SessionStatus.OPEN if open_now else SessionStatus.DRAFT,
        closes_at=closes_at,
        capacity=capacity,
    )
