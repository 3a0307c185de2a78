"""What a participant learns once their session's feedback is released, and the class's aggregate for discussion.

Everything is scored by analysis/scoring.py, the one scoring path. A participant sees their own answers beside the
key and where they stand among their session's finished participants, never anyone else's answers; the session's
distribution and the class view need at least MIN_FINISHED finished participants (bots left out), so that no single
classmate's result can be read off them.
"""

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.core.cache import cache
from django.db.models import Count

from analysis import scoring
from experiment.models import Answer, Choice, LabSession, Participant, Stage
from threats.models import Threat

MIN_FINISHED = 10
# A class of 500 opening its feedback at once reads the session's answers (10,000 rows for 20 threats) once, not 500
# times. The key carries the release time, so an undo and a new release start afresh.
_SCORES_SECONDS = 600


@dataclass(frozen=True)
class Row:
    """One threat as the participant answered it, beside the key."""

    threat: Threat
    position: int
    marked_applicable: bool | None  # None: left unanswered
    outcome: str | None  # tp, fn, fp, tn; None when unanswered


@dataclass(frozen=True)
class Box:
    """Five numbers of a session's scores on one metric, and the participant's own."""

    label: str
    minimum: float
    q1: float
    median: float
    q3: float
    maximum: float
    own: float | None
    n: int


@dataclass(frozen=True)
class Personal:
    rows: list[Row]
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float | None
    recall: float | None
    finished: int  # finished real participants in the session
    boxes: list[Box]  # empty below MIN_FINISHED


@dataclass(frozen=True)
class ThreatShare:
    threat: Threat
    is_real: bool
    marked: int
    share: float


def _number(value) -> float | None:
    return None if np.isnan(value) else float(value)


def personal(participant: Participant, session: LabSession) -> Personal:
    """The participant's answers beside the key, their counts and metrics, and the session's distribution."""
    threats = Threat.objects.in_bulk(participant.threat_order)
    answers = dict(Answer.objects.filter(participant=participant).values_list("threat_id", "choice"))
    rows = []
    for position, threat_id in enumerate(participant.threat_order, start=1):
        threat = threats[threat_id]
        choice = answers.get(threat_id)
        marked = None if choice is None else choice == Choice.APPLICABLE
        outcome = None if marked is None else scoring.outcome(threat.is_real, marked)
        rows.append(Row(threat, position, marked, outcome))
    counts = {name: sum(1 for row in rows if row.outcome == name) for name in ("tp", "fp", "fn", "tn")}
    scores = scoring.score(counts["tp"], counts["fn"], counts["fp"], counts["tn"])
    precision, recall = _number(scores.precision), _number(scores.recall)
    finished, session_scores = session_scores_of(session)
    boxes = []
    if finished >= MIN_FINISHED:
        for label, own, values in (
            ("recall", recall, session_scores["recall"]),
            ("precision", precision, session_scores["precision"]),
        ):
            defined = [v for v in values if v is not None]
            if defined:
                q = np.percentile(defined, [0, 25, 50, 75, 100])
                boxes.append(Box(label, *(float(x) for x in q), own=own, n=len(defined)))
    return Personal(rows, **counts, precision=precision, recall=recall, finished=finished, boxes=boxes)


def _finished_answers(session: LabSession):
    return Answer.objects.filter(
        participant__session=session, participant__stage=Stage.DONE, participant__is_simulated=False
    )


def session_scores_of(session: LabSession) -> tuple[int, dict[str, list[float | None]]]:
    """How many real participants finished in the session, and each one's precision and recall (None: undefined),
    in no particular order and with nothing that names them."""

    def compute() -> tuple[int, dict[str, list[float | None]]]:
        finished = session.participants.real().filter(stage=Stage.DONE).count()
        marks: dict[int, list[tuple[bool, bool]]] = defaultdict(list)
        rows = _finished_answers(session).values_list("participant_id", "threat__is_real", "choice")
        for participant_id, is_real, choice in rows:
            marks[participant_id].append((is_real, choice == Choice.APPLICABLE))
        counts = defaultdict(list)
        for answered in marks.values():
            outcomes = [scoring.outcome(real, marked) for real, marked in answered]
            for name in ("tp", "fn", "fp", "tn"):
                counts[name].append(outcomes.count(name))
        scores = scoring.score(counts["tp"], counts["fn"], counts["fp"], counts["tn"])
        return finished, {
            "precision": [_number(v) for v in np.atleast_1d(scores.precision)] if marks else [],
            "recall": [_number(v) for v in np.atleast_1d(scores.recall)] if marks else [],
        }

    released = session.feedback_released_at.isoformat() if session.feedback_released_at else "none"
    return cache.get_or_set(f"feedback-scores:{session.pk}:{released}", compute, timeout=_SCORES_SECONDS)


def class_shares(session: LabSession) -> tuple[int, list[ThreatShare]]:
    """How many real participants finished, and per threat the share of them who marked it applicable (empty below
    MIN_FINISHED): aggregates only, for the class to discuss."""
    finished = session.participants.real().filter(stage=Stage.DONE).count()
    if finished < MIN_FINISHED:
        return finished, []
    applicable = _finished_answers(session).filter(choice=Choice.APPLICABLE)
    marked = dict(applicable.values("threat_id").annotate(n=Count("pk")).values_list("threat_id", "n"))
    threats = Threat.objects.filter(scenario__experiments__sessions=session).order_by("position")
    shares = [ThreatShare(t, t.is_real, marked.get(t.pk, 0), marked.get(t.pk, 0) / finished) for t in threats]
    return finished, shares
