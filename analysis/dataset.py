"""What the analysis and the exports read: one experiment's participants, filtered, in a constant number of queries.

Scores are counted in the database (one aggregate query over the answers), so the analysis of 100,000
participants fetches 100,000 rows, not a million answers.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Avg, Count, F, Q, QuerySet

from analysis.scoring import Score, score_counts
from experiment.models import Answer, Arm, Choice, Experiment, Participant, Stage, UsefulnessRating
from experiment.sources import Source, sources_for
from threats.models import Threat


@dataclass(frozen=True)
class Filters:
    """Which participants count: by session and stratum; simulated, incomplete or implausibly fast ones or not."""

    session_ids: tuple[int, ...] = ()
    # Compare only these arms (e.g. two of three); empty: every arm.
    arm_ids: tuple[int, ...] = ()
    include_simulated: bool = False
    include_incomplete: bool = False
    exclude_fast: bool = False
    stratum: str | None = None


@dataclass(frozen=True)
class ParticipantRow:
    id: int
    arm_id: int
    score: Score
    ratings: dict[str, int]
    stratum: str = ""
    mean_confidence: float | None = None


@dataclass
class Dataset:
    experiment: Experiment
    filters: Filters
    arms: list[Arm]
    threats: list[Threat]
    sources: list[Source]
    rows: list[ParticipantRow]
    # (arm_id, threat_id) -> (marked real, answered)
    selections: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    consort: dict = field(default_factory=dict)

    def in_arm(self, arm: Arm) -> list[ParticipantRow]:
        return [row for row in self.rows if row.arm_id == arm.pk]


def implausibly_fast(experiment: Experiment) -> Q:
    """Participants who answered all the threats faster than the experiment finds plausible."""
    seconds = experiment.min_plausible_threats_seconds
    if not seconds:
        return Q(pk__in=[])
    return Q(usefulness_started_at__lt=F("threats_started_at") + timedelta(seconds=seconds))


def _in_scope(experiment: Experiment, filters: Filters) -> QuerySet[Participant]:
    """Every participant the filters' sessions and stratum cover, before any exclusion."""
    queryset = Participant.objects.filter(session__experiment=experiment)
    if filters.session_ids:
        queryset = queryset.filter(session_id__in=filters.session_ids)
    if filters.stratum is not None:
        queryset = queryset.filter(stratum=filters.stratum)
    if filters.arm_ids:
        queryset = queryset.filter(Q(arm_id__in=filters.arm_ids) | Q(arm__isnull=True))
    return queryset


def participants(experiment: Experiment, filters: Filters) -> QuerySet[Participant]:
    queryset = _in_scope(experiment, filters).filter(arm__isnull=False)
    if not filters.include_simulated:
        queryset = queryset.filter(is_simulated=False)
    if not filters.include_incomplete:
        queryset = queryset.filter(stage=Stage.DONE)
    if filters.exclude_fast:
        queryset = queryset.exclude(implausibly_fast(experiment))
    return queryset


def with_counts(values: QuerySet) -> QuerySet:
    """Annotate a ``values()`` queryset of participants with tp, fp, fn, tn counted in the database."""
    marked, unmarked = Q(answers__choice=Choice.APPLICABLE), Q(answers__choice=Choice.NOT_APPLICABLE)
    real, fake = Q(answers__threat__is_real=True), Q(answers__threat__is_real=False)
    return values.annotate(
        tp=Count("answers", filter=marked & real),
        fp=Count("answers", filter=marked & fake),
        fn=Count("answers", filter=unmarked & real),
        tn=Count("answers", filter=unmarked & fake),
        mean_confidence=Avg("answers__confidence"),
    )


def consort(experiment: Experiment, filters: Filters, arms: list[Arm]) -> dict:
    """The flow of participants, CONSORT-style: joined, consented, assigned and completed per arm, then who was
    left out of the analysis and why, and how many were analysed."""
    scope = _in_scope(experiment, filters)
    real = Q(is_simulated=False)
    done = Q(stage=Stage.DONE)
    fast = implausibly_fast(experiment)
    per_arm = {
        row["arm_id"]: row
        for row in scope.values("arm_id").annotate(
            assigned=Count("id"),
            simulated=Count("id", filter=~real),
            completed=Count("id", filter=real & done),
            incomplete=Count("id", filter=real & ~done),
            fast=Count("id", filter=real & done & fast),
        )
    }
    sessions = experiment.sessions.all()
    if filters.session_ids:
        sessions = sessions.filter(pk__in=filters.session_ids)
    declined = sum(sessions.values_list("declined_count", flat=True)) if filters.stratum is None else None
    waiting = per_arm.pop(None, {"assigned": 0})["assigned"]
    arms_flow = []
    for arm in arms:
        row = per_arm.get(arm.pk, {"assigned": 0, "simulated": 0, "completed": 0, "incomplete": 0, "fast": 0})
        excluded = {
            "simulated": 0 if filters.include_simulated else row["simulated"],
            "incomplete": 0 if filters.include_incomplete else row["incomplete"],
            "implausibly_fast": row["fast"] if filters.exclude_fast else 0,
        }
        arms_flow.append(
            {
                "arm": arm.name,
                "assigned": row["assigned"],
                "completed": row["completed"],
                "excluded": excluded,
                "implausibly_fast": row["fast"],
            }
        )
    consented = waiting + sum(a["assigned"] for a in arms_flow)
    return {
        "declined": declined,
        "consented": consented,
        "joined": None if declined is None else declined + consented,
        "awaiting_assignment": waiting,
        "arms": arms_flow,
    }


def load(experiment: Experiment, filters: Filters | None = None) -> Dataset:
    filters = filters or Filters()
    arms = list(experiment.arms.order_by("position").prefetch_related("diagram_links__diagram"))
    if filters.arm_ids:
        arms = [arm for arm in arms if arm.pk in filters.arm_ids]
    every_diagram = {link.diagram.slug: link.diagram for arm in arms for link in arm.diagram_links.all()}
    chosen = participants(experiment, filters)
    counted = with_counts(chosen.values("id", "arm_id", "stratum"))
    ratings: dict[int, dict[str, int]] = {}
    for participant_id, source, value in UsefulnessRating.objects.filter(participant__in=chosen).values_list(
        "participant_id", "source", "value"
    ):
        ratings.setdefault(participant_id, {})[source] = value
    rows = [
        ParticipantRow(
            r["id"],
            r["arm_id"],
            score_counts(r["tp"], r["fn"], r["fp"], r["tn"]),
            ratings.get(r["id"], {}),
            r["stratum"],
            None if r["mean_confidence"] is None else float(r["mean_confidence"]),
        )
        for r in counted.order_by("id")
    ]
    selections = {
        (s["participant__arm_id"], s["threat_id"]): (s["marked"], s["answered"])
        for s in Answer.objects.filter(participant__in=chosen)
        .values("participant__arm_id", "threat_id")
        .annotate(marked=Count("id", filter=Q(choice=Choice.APPLICABLE)), answered=Count("id"))
    }
    return Dataset(
        experiment=experiment,
        filters=filters,
        arms=arms,
        threats=list(experiment.scenario.threats.order_by("position")),
        sources=sources_for(list(every_diagram.values())),
        rows=rows,
        selections=selections,
        consort=consort(experiment, filters, arms),
    )


def strata_of(experiment: Experiment) -> list[str]:
    return sorted(
        set(
            Participant.objects.filter(session__experiment=experiment)
            .exclude(stratum="")
            .values_list("stratum", flat=True)
        )
    )
