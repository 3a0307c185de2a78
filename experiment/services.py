"""Every write a participant causes, each in one transaction, each safe to repeat.

Stage moves are conditional updates (``stage=<expected>``): the row count says who won, so a second tab, a
double click or a replayed POST changes nothing. The unique constraints stay the final arbiter.
"""

import functools
import random
import uuid
import zlib
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from experiment.assignment import next_slot, shuffled
from experiment.codes import completion_code_for, new_join_code
from experiment.content import content_of
from experiment.lookups import columns, participant_by_entry_token, prepared_instances
from experiment.models import (
    STAGE_TIMESTAMP,
    AllocationBlock,
    Answer,
    CompletionCode,
    Experiment,
    ItemResponse,
    LabSession,
    Participant,
    Placement,
    SessionStatus,
    Stage,
    UsefulnessRating,
)

_system_random = random.SystemRandom()


class AdmissionRefused(Exception):
    """The session does not take this student; the message says why, in words for the student."""


class TooEarly(Exception):
    """The participant tried to leave the training before the experiment's minimum reading time."""

    def __init__(self, remaining_seconds: int):
        super().__init__(remaining_seconds)
        self.remaining_seconds = remaining_seconds


def stages_for(experiment: Experiment) -> list[Stage]:
    """The stages a participant of this experiment goes through, in order."""
    return content_of(experiment).stages


def _next_stage(participant: Participant, current: Stage) -> Stage:
    return content_of(participant.session.experiment).next_stage(current)


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


def _stratum_lock_key(stratum: str) -> int:
    """The stratum as a signed 32-bit number, for an advisory lock; two strata sharing one only wait on each other."""
    return int.from_bytes(zlib.crc32(stratum.encode()).to_bytes(4, "big"), "big", signed=True)


def _serialise_allocation(session_id: int, stratum: str) -> None:
    """Take the stratum's allocation lock until the transaction ends: one allocation at a time per stratum, so
    no two participants take the same slot and blocks fill in order.

    On PostgreSQL it is an advisory lock on (session, stratum), not the session's row: consents, other strata and
    every other write of the session go on meanwhile (the row lock queued a whole class at the entry submit).
    SQLite takes its write lock at BEGIN (IMMEDIATE transactions), which serialises every writer already.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [session_id % 2**31, _stratum_lock_key(stratum)])


@functools.cache
def _last_block_sql(vendor: str) -> str:
    """The stratum's last block and how many participants it holds, in one statement."""
    quote = connection.ops.quote_name
    block, participant = AllocationBlock._meta, Participant._meta
    return (
        f"SELECT {columns(AllocationBlock, 'b')}, (SELECT count(*) FROM {quote(participant.db_table)} p "
        f"WHERE p.{quote('block_id')} = b.{quote('id')}) AS filled "
        f"FROM {quote(block.db_table)} b WHERE b.{quote('session_id')} = %s AND b.{quote('stratum')} = %s "
        f"ORDER BY b.{quote('number')} DESC LIMIT 1"
    )


def _allocate(session_id: int, participant: Participant, stratum: str, arm_ids: list[int], rng: random.Random) -> None:
    """Give the participant the next slot of the stratum's open block. Call it last in the transaction: the
    stratum's lock is held from here until the commit."""
    _serialise_allocation(session_id, stratum)
    found = prepared_instances(
        AllocationBlock,
        "threatlab_last_block",
        _last_block_sql(connection.vendor),
        [session_id, stratum],
        extras=(("filled", None),),
    )
    block = found[0] if found else None
    filled = block.filled if block else 0
    slot = next_slot(block.arm_sequence if block else None, filled, arm_ids, rng)
    if slot.new_block is not None:
        block = AllocationBlock.objects.create(
            session_id=session_id,
            stratum=stratum,
            number=(block.number + 1) if block else 1,
            arm_sequence=list(slot.new_block),
        )
    participant.arm_id = slot.arm_id
    participant.block = block
    participant.block_position = slot.position
    participant.stratum = stratum
    participant.assigned_at = timezone.now()


def enrol(
    session: LabSession,
    entry_token: uuid.UUID,
    *,
    is_simulated: bool = False,
    rng: random.Random | None = None,
) -> Participant:
    """Admit a consenting student and fix the threat order; assign an arm now unless an entry questionnaire
    comes first (its answer may choose the stratum).

    Idempotent per ``entry_token``: the same consent form posted again returns the participant it made.
    Raises AdmissionRefused when the session is not open, past its closing time, or full.
    """
    rng = rng or _system_random
    existing = participant_by_entry_token(entry_token)
    if existing is not None:
        return existing
    # Everything that does not depend on the other participants is read before the lock, to keep it short.
    content = content_of(session.experiment)
    first_stage = content.stages[0]
    threat_ids = list(content.threats)
    arm_ids = list(content.arms)
    try:
        with transaction.atomic():
            if session.capacity is not None:
                # A capacity counts the others: the session's row admits one at a time, so the count is exact.
                session = LabSession.objects.select_for_update().get(pk=session.pk)
            problem = admission_problem(session, rehearsal=is_simulated)
            if problem:
                raise AdmissionRefused(problem)
            participant = Participant(
                entry_token=entry_token,
                session=session,
                stage=first_stage,
                threat_order=shuffled(threat_ids, rng),
                is_simulated=is_simulated,
            )
            if first_stage == Stage.TRAINING:
                _allocate(session.pk, participant, "", arm_ids, rng)
            participant.save()
            return participant
    except IntegrityError:
        # A concurrent POST of the same consent form won the race: its participant is the one.
        winner = participant_by_entry_token(entry_token)
        if winner is None:
            raise
        return winner


def record_declined(session: LabSession) -> None:
    """Count a declined consent; nothing about the student is kept."""
    LabSession.objects.filter(pk=session.pk).update(declined_count=F("declined_count") + 1)


def _advance(participant: Participant, expected: Stage, target: Stage, **fields) -> bool:
    """Move from ``expected`` to ``target`` if the participant is still at ``expected``; True if this call did."""
    now = timezone.now()
    changes = {"stage": target, "last_activity_at": now, STAGE_TIMESTAMP[target]: now, **fields}
    moved = Participant.objects.filter(pk=participant.pk, stage=expected).update(**changes)
    if moved:
        # The row now holds exactly these values; setting them spares reading it back.
        for name, value in changes.items():
            setattr(participant, name, value)
    return bool(moved)


@dataclass(frozen=True)
class Response:
    item_id: int
    row: str
    value: str


def stratum_for(experiment: Experiment, responses: list[Response]) -> str:
    """The stratum an entry answer puts a participant in ('' when the experiment is not stratified)."""
    if not experiment.stratify_item:
        return ""
    _questionnaire, items = content_of(experiment).questionnaires[Placement.ENTRY]
    item = next(item for item in items if item.key == experiment.stratify_item)
    value = next((r.value for r in responses if r.item_id == item.pk and not r.row), "")
    return experiment.strata.get(value, value)


@functools.cache
def _lock_sql(vendor: str, for_update: bool) -> str:
    quote = connection.ops.quote_name
    sql = f"SELECT 1 FROM {quote(Participant._meta.db_table)} WHERE {quote('id')} = %s AND {quote('stage')} = %s"
    return f"{sql} FOR UPDATE" if for_update else sql


def _lock_at_stage(participant_id: int, stage: Stage) -> bool:
    """Lock the participant's row until the transaction ends, if it is still at ``stage``; False if not.

    SQLite has no row locks: its IMMEDIATE transactions already let one writer in at a time.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _lock_sql(connection.vendor, connection.features.has_select_for_update), [participant_id, stage.value]
        )
        return cursor.fetchone() is not None


def submit_entry(participant: Participant, responses: list[Response], rng: random.Random | None = None) -> bool:
    """Store the entry questionnaire, then assign the arm (in the stratum its answer picks). False if done already."""
    rng = rng or _system_random
    experiment = participant.session.experiment
    stratum = stratum_for(experiment, responses)
    arm_ids = list(content_of(experiment).arms)
    with transaction.atomic():
        # The participant's row lock turns a second tab's submit away; the answers go in before the allocation,
        # whose lock lasts until the commit.
        if not _lock_at_stage(participant.pk, Stage.ENTRY):
            return False
        current = Participant(pk=participant.pk, session_id=participant.session_id)
        ItemResponse.objects.bulk_create(
            ItemResponse(participant_id=current.pk, item_id=r.item_id, row=r.row, value=r.value) for r in responses
        )
        _allocate(current.session_id, current, stratum, arm_ids, rng)
        current.stage = Stage.TRAINING
        current.last_activity_at = current.assigned_at
        assigned = ["arm_id", "block_id", "block_position", "stratum", "assigned_at", "stage", "last_activity_at"]
        current.save(update_fields=[name.removesuffix("_id") for name in assigned])
    for name in assigned:
        setattr(participant, name, getattr(current, name))
    return True


def _merged_exposure(participant: Participant, page: str, seconds: dict[str, float]) -> dict:
    return {**participant.exposure, page: seconds} if seconds else participant.exposure


def start_threats(participant: Participant, exposure: dict[str, float] | None = None) -> bool:
    """Leave the training for the questionnaire. False when the participant was no longer in training.

    Raises TooEarly before the experiment's minimum reading time (counted on the server from the assignment).
    """
    minimum = participant.session.experiment.min_training_seconds
    if minimum and participant.stage == Stage.TRAINING:
        spent = (timezone.now() - participant.assigned_at).total_seconds()
        if spent < minimum:
            raise TooEarly(int(minimum - spent) + 1)
    return _advance(
        participant, Stage.TRAINING, Stage.THREATS, exposure=_merged_exposure(participant, "training", exposure or {})
    )


@dataclass(frozen=True)
class ThreatAnswer:
    threat_id: int
    position: int
    choice: str
    confidence: int | None = None


def submit_answers(participant: Participant, answers: list[ThreatAnswer], exposure: dict | None = None) -> bool:
    """Store one answer per threat and move on to the usefulness item, all or nothing.

    False (and nothing stored) when the answers were already submitted: submitted answers never change.
    """
    with transaction.atomic():
        merged = _merged_exposure(participant, "threats", exposure or {})
        if not _advance(participant, Stage.THREATS, Stage.USEFULNESS, exposure=merged):
            return False
        Answer.objects.bulk_create(
            Answer(
                participant=participant,
                threat_id=a.threat_id,
                position=a.position,
                choice=a.choice,
                confidence=a.confidence,
            )
            for a in answers
        )
    return True


def _finish(participant: Participant) -> str:
    code = completion_code_for(str(participant.code))
    CompletionCode.objects.get_or_create(code=code, defaults={"session_id": participant.session_id})
    return code


def submit_usefulness(participant: Participant, ratings: dict[str, int], comment: str) -> str | None:
    """Store the usefulness ratings and the comment, all or nothing, and move on (exit questionnaire or done).

    Returns the completion code when this finished the lab, "" when an exit questionnaire follows, None if the
    ratings were already submitted. The code is kept nowhere that links it to the participant.
    """
    with transaction.atomic():
        target = _next_stage(participant, Stage.USEFULNESS)
        if not _advance(participant, Stage.USEFULNESS, target, comment=comment):
            return None
        UsefulnessRating.objects.bulk_create(
            UsefulnessRating(participant=participant, source=source, value=value) for source, value in ratings.items()
        )
        return _finish(participant) if target == Stage.DONE else ""


def submit_exit(participant: Participant, responses: list[Response]) -> str | None:
    """Store the exit questionnaire and finish; returns the completion code, or None if already done."""
    with transaction.atomic():
        if not _advance(participant, Stage.EXIT, Stage.DONE):
            return None
        ItemResponse.objects.bulk_create(
            ItemResponse(participant=participant, item_id=r.item_id, row=r.row, value=r.value) for r in responses
        )
        return _finish(participant)


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
