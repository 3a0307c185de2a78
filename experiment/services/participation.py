"""A participant's way through the lab: admission, the answers of each stage, and the completion code.

Every write is one transaction and safe to repeat: stage moves go through ``stages.advance``, a conditional update
whose row count says who won, so a second tab, a double click or a replayed POST changes nothing. The unique
constraints stay the final arbiter.
"""

import random
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from experiment import codes, selectors, stages
from experiment.assignment import shuffled
from experiment.codes import completion_code_for
from experiment.consent import Consent, agreeing_to_all
from experiment.content import kept
from experiment.models import (
    Answer,
    Arm,
    Experiment,
    ItemResponse,
    LabSession,
    Participant,
    Placement,
    QuestionnaireItem,
    SessionStatus,
    Stage,
    UsefulnessRating,
)
from experiment.services.allocation import allocate
from threats.models import Threat

_system_random = random.SystemRandom()


class AdmissionRefused(Exception):
    """The session does not take this student; the message says why, in words for the student."""


class TooEarly(Exception):
    """The participant tried to leave the training before the experiment's minimum reading time."""

    def __init__(self, remaining_seconds: int):
        super().__init__(remaining_seconds)
        self.remaining_seconds = remaining_seconds


def admission_problem(session: LabSession, *, rehearsal: bool = False) -> str | None:
    """Why a session turns new students away right now, or None when it admits them.

    Rehearsal bots may enter a draft session, so that instructors can rehearse before opening it to students.
    """
    if session.status == SessionStatus.DRAFT and not rehearsal:
        return _("This lab session has not started yet. Ask your instructor when it opens.")
    if session.is_closed():
        return _("This lab session is closed and takes no new participants.")
    if session.capacity is not None and session.participants.count() >= session.capacity:
        return _("This lab session is full.")
    return None


def _arm_ids(experiment: Experiment) -> list[int]:
    def read() -> list[int]:
        return list(Arm.objects.filter(experiment=experiment).order_by("position").values_list("pk", flat=True))

    return kept(experiment.content_key, "arm-ids", read)


def _threat_ids(experiment: Experiment) -> list[int]:
    def read() -> list[int]:
        threats = Threat.objects.filter(scenario_id=experiment.scenario_id).order_by("position")
        return list(threats.values_list("pk", flat=True))

    return kept(experiment.content_key, "threat-ids", read)


def enrol(
    session: LabSession,
    entry_token: uuid.UUID,
    consent: Consent | None = None,
    *,
    is_simulated: bool = False,
    rng: random.Random | None = None,
) -> Participant:
    """Admit a consenting student and fix the threat order; assign an arm now unless an entry questionnaire
    comes first (its answer may choose the stratum).

    Idempotent per ``entry_token``: the same consent form posted again returns the participant it made. Gives the
    participant a new short code, drawn again on the rare collision (the unique constraint decides).
    Records ``consent`` (the sheet's version and the statements agreed to); without one, the student agrees to
    every statement of the experiment's sheet (simulations and tests).
    Raises AdmissionRefused when the session is not open, past its closing time, or full.
    """
    rng = rng or _system_random
    # Everything that does not depend on the other participants is read before the lock, to keep it short.
    experiment = session.experiment
    consent = consent or agreeing_to_all(experiment)
    first_stage = stages.first_stage(experiment)
    threat_ids = _threat_ids(experiment)
    arm_ids = _arm_ids(experiment)
    attempts_left = _SHORT_CODE_ATTEMPTS
    while True:
        # A consent form posted again finds its participant only when the insert fails: the first post of each
        # form, the one a class sends, costs no read for it.
        try:
            return _admit(session, entry_token, consent, first_stage, threat_ids, arm_ids, is_simulated, rng)
        except AdmissionRefused:
            # The session may have closed or filled since this form made its participant: that one is still theirs.
            existing = selectors.participant_by_entry_token(entry_token)
            if existing is not None:
                return existing
            raise
        except IntegrityError:
            # A concurrent POST of the same consent form won the race: its participant is the one. Otherwise the
            # short code the new participant drew was taken (one chance in 2**51 per participant): draw another.
            winner = selectors.participant_by_entry_token(entry_token)
            if winner is not None:
                return winner
            attempts_left -= 1
            if not attempts_left:
                raise


# Two collisions in a row on a space of 25**11 codes would mean something else is wrong; say so.
_SHORT_CODE_ATTEMPTS = 3


def _admit(
    session: LabSession,
    entry_token: uuid.UUID,
    consent: Consent,
    first_stage: Stage,
    threat_ids: list[int],
    arm_ids: list[int],
    is_simulated: bool,
    rng: random.Random,
) -> Participant:
    with transaction.atomic():
        if session.capacity is not None:
            # A capacity counts the others: the session's row admits one at a time, so the count is exact.
            session = LabSession.objects.select_for_update().select_related("experiment").get(pk=session.pk)
        problem = admission_problem(session, rehearsal=is_simulated)
        if problem:
            raise AdmissionRefused(problem)
        participant = Participant(
            entry_token=entry_token,
            short_code=codes.new_participant_code(),
            session=session,
            stage=first_stage,
            threat_order=shuffled(threat_ids, rng),
            is_simulated=is_simulated,
            sheet_version=consent.sheet_version,
            agreed_statements=list(consent.agreed),
        )
        if first_stage == Stage.TRAINING:
            for name, value in allocate(session.pk, "", arm_ids, rng).items():
                setattr(participant, name, value)
        participant.save()
        return participant


def record_declined(session: LabSession) -> None:
    """Count a declined consent; nothing about the student is kept."""
    LabSession.objects.filter(pk=session.pk).update(declined_count=F("declined_count") + 1)


@dataclass(frozen=True)
class Response:
    item_id: int
    row: str
    value: str


def stratum_for(experiment: Experiment, responses: list[Response]) -> str:
    """The stratum an entry answer puts a participant in ('' when the experiment is not stratified)."""
    if not experiment.stratify_item:
        return ""

    def read() -> int:
        items = QuestionnaireItem.objects.filter(
            questionnaire__experiment=experiment, questionnaire__placement=Placement.ENTRY, key=experiment.stratify_item
        )
        return items.values_list("pk", flat=True).get()

    item_id = kept(experiment.content_key, "stratify-item", read)
    value = next((r.value for r in responses if r.item_id == item_id and not r.row), "")
    return experiment.strata.get(value, value)


def submit_entry(participant: Participant, responses: list[Response], rng: random.Random | None = None) -> bool:
    """Store the entry questionnaire, then assign the arm (in the stratum its answer picks). False if done already."""
    rng = rng or _system_random
    experiment = participant.session.experiment
    stratum = stratum_for(experiment, responses)
    arm_ids = _arm_ids(experiment)
    with transaction.atomic():
        # The participant's row lock turns a second tab's submit away before it writes anything; the allocation
        # comes last, as its lock lasts until the commit. (SQLite has no row locks: its IMMEDIATE transactions
        # let one writer in at a time already.)
        if not Participant.objects.select_for_update().filter(pk=participant.pk, stage=Stage.ENTRY).exists():
            return False
        ItemResponse.objects.bulk_create(
            ItemResponse(participant_id=participant.pk, item_id=r.item_id, row=r.row, value=r.value) for r in responses
        )
        return stages.advance(participant, Stage.ENTRY, **allocate(participant.session_id, stratum, arm_ids, rng))


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
    return stages.advance(
        participant, Stage.TRAINING, exposure=_merged_exposure(participant, "training", exposure or {})
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
        if not stages.advance(participant, Stage.THREATS, exposure=merged):
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
    # Derived, never stored: a stored code's row order, id or transaction id would follow the order of finishing
    # and so link it to the participant. The instructor's check derives the codes again (sessions.issued_codes).
    return completion_code_for(str(participant.code))


def submit_usefulness(participant: Participant, ratings: dict[str, int], comment: str) -> str | None:
    """Store the usefulness ratings and the comment, all or nothing, and move on (exit questionnaire or done).

    Returns the completion code when this finished the lab, "" when an exit questionnaire follows, None if the
    ratings were already submitted. The code is derived, not stored.
    """
    with transaction.atomic():
        if not stages.advance(participant, Stage.USEFULNESS, comment=comment):
            return None
        UsefulnessRating.objects.bulk_create(
            UsefulnessRating(participant=participant, source=source, value=value) for source, value in ratings.items()
        )
        return _finish(participant) if participant.stage == Stage.DONE else ""


def submit_exit(participant: Participant, responses: list[Response]) -> str | None:
    """Store the exit questionnaire and finish; returns the completion code, or None if already done."""
    with transaction.atomic():
        if not stages.advance(participant, Stage.EXIT):
            return None
        ItemResponse.objects.bulk_create(
            ItemResponse(participant=participant, item_id=r.item_id, row=r.row, value=r.value) for r in responses
        )
        return _finish(participant)
