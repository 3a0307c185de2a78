"""What the analysis and the exports read: one experiment's participants, filtered, in a constant number of queries.

Scores are counted in the database (one aggregate query over the answers), so the analysis of 100,000
participants fetches 100,000 rows, not a million answers.
"""

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from analysis.scoring import Score, score_counts
from experiment.models import Answer, Arm, Choice, Experiment, LabSession, Participant, Stage, UsefulnessRating
from experiment.sources import Source, sources_for
from threats.models import DiagramKind, Threat


@dataclass(frozen=True)
class Filters:
    """Which participants count: by session, simulated or not, complete or not."""

    session_ids: tuple[int, ...] = ()
    include_simulated: bool = False
    include_incomplete: bool = False


@dataclass(frozen=True)
class ParticipantRow:
    id: int
    arm_id: int
    score: Score
    ratings: dict[str, int]


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
    excluded_simulated: int = 0
    excluded_incomplete: int = 0

    def in_arm(self, arm: Arm) -> list[ParticipantRow]:
        return [row for row in self.rows if row.arm_id == arm.pk]

    @property
    def dfd_arm_ids(self) -> set[int]:
        return {arm.pk for arm in self.arms if any(d.kind == DiagramKind.DFD for d in arm.shown_diagrams())}


def participants(experiment: Experiment, filters: Filters) -> QuerySet[Participant]:
    queryset = Participant.objects.filter(session__experiment=experiment)
    if filters.session_ids:
        queryset = queryset.filter(session_id__in=filters.session_ids)
    if not filters.include_simulated:
        queryset = queryset.filter(is_simulated=False)
    if not filters.include_incomplete:
        queryset = queryset.filter(stage=Stage.DONE)
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
    )


def load(experiment: Experiment, filters: Filters | None = None) -> Dataset:
    filters = filters or Filters()
    arms = list(experiment.arms.order_by("position").prefetch_related("diagram_links__diagram"))
    every_diagram = {link.diagram.slug: link.diagram for arm in arms for link in arm.diagram_links.all()}
    chosen = participants(experiment, filters)
    counted = with_counts(chosen.values("id", "arm_id"))
    ratings: dict[int, dict[str, int]] = {}
    for participant_id, source, value in UsefulnessRating.objects.filter(participant__in=chosen).values_list(
        "participant_id", "source", "value"
    ):
        ratings.setdefault(participant_id, {})[source] = value
    rows = [
        ParticipantRow(r["id"], r["arm_id"], score_counts(r["tp"], r["fn"], r["fp"], r["tn"]), ratings.get(r["id"], {}))
        for r in counted.order_by("id")
    ]
    selections = {
        (s["participant__arm_id"], s["threat_id"]): (s["marked"], s["answered"])
        for s in Answer.objects.filter(participant__in=chosen)
        .values("participant__arm_id", "threat_id")
        .annotate(marked=Count("id", filter=Q(choice=Choice.APPLICABLE)), answered=Count("id"))
    }
    everyone = Participant.objects.filter(session__experiment=experiment)
    if filters.session_ids:
        everyone = everyone.filter(session_id__in=filters.session_ids)
    excluded = everyone.aggregate(
        simulated=Count("id", filter=Q(is_simulated=True)),
        incomplete=Count("id", filter=Q(is_simulated=False) & ~Q(stage=Stage.DONE)),
    )
    return Dataset(
        experiment=experiment,
        filters=filters,
        arms=arms,
        threats=list(experiment.scenario.threats.order_by("position")),
        sources=sources_for(list(every_diagram.values())),
        rows=rows,
        selections=selections,
        excluded_simulated=0 if filters.include_simulated else excluded["simulated"],
        excluded_incomplete=0 if filters.include_incomplete else excluded["incomplete"],
    )


def sessions_of(experiment: Experiment) -> QuerySet[LabSession]:
    return experiment.sessions.order_by("-created_at")
