"""What the analysis and the exports read: one experiment's participants, filtered, in a constant number of queries.

The analysis reads the participants as columns (numpy arrays, one entry per participant), counted in the database:
one pass over the answers gives each participant's marked and answered threats, one over the ratings each
participant's rating per source. 100,000 participants are 100,000 rows of a few integers, not a million answers,
and no Python object per participant.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta

import numpy as np
from django.db import connections
from django.db.models import Avg, Case, Count, F, IntegerField, Q, QuerySet, Sum, Value, When

from analysis import scoring
from experiment.models import Answer, Arm, Choice, Experiment, Participant, Stage, UsefulnessRating
from experiment.sources import Source, sources_for
from threats.models import Threat

# The database packs per participant several answers into one integer: SUM adds terms that occupy distinct bits
# (one answer per threat, one rating per source: unique constraints). Each term stays below 2**31, so it is a plain
# integer in PostgreSQL too and the sum a bigint; more threats or sources take more integers.
# A threat is one bit: whether it was marked real, whether it was answered.
THREATS_PER_MASK = 31
# A rating is three bits: 1..5 (a check constraint), 0 where there is none; 5 << 27 is the largest term.
SOURCES_PER_PACK = 10
# Rows of a query converted to numpy at a time.
FETCH_ROWS = 2000


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
class ParticipantColumns:
    """The analysed participants as columns, in id order: entry i of every array is participant ``ids[i]``.

    ``marked`` and ``answered`` have a column per threat (in position order): whether the participant marked it
    real, whether it answered it. tp .. accuracy are ``analysis.scoring.score``'s, NaN where a metric is undefined.
    ``mean_confidence`` is NaN when missing or not asked. ``ratings`` has a column per source key in ``rated``, NaN
    where the participant gave no rating. The statistics drop and count NaN as they drop None.
    """

    ids: np.ndarray
    arm_ids: np.ndarray
    marked: np.ndarray
    answered: np.ndarray
    tp: np.ndarray
    fn: np.ndarray
    fp: np.ndarray
    tn: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    accuracy: np.ndarray
    mean_confidence: np.ndarray
    ratings: np.ndarray
    rated: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.ids)

    def where(self, keep: np.ndarray) -> "ParticipantColumns":
        """The participants for whom ``keep`` (a boolean array) is true, in the same order."""
        return replace(self, **{f.name: getattr(self, f.name)[keep] for f in fields(self) if f.name != "rated"})

    def metric(self, key: str) -> np.ndarray:
        """A score column (``tp`` .. ``accuracy``) or ``mean_confidence``."""
        return getattr(self, key)

    def rating(self, source_key: str) -> np.ndarray:
        if source_key not in self.rated:
            return np.full(len(self), np.nan)
        return self.ratings[:, self.rated.index(source_key)]


def listed(column: np.ndarray) -> list:
    """A column as plain values, as the report and the exports carry them: ints, floats, None where it has NaN."""
    if column.dtype.kind != "f":
        return column.tolist()
    values = column.astype(object)
    values[np.isnan(column)] = None
    return values.tolist()


@dataclass
class Dataset:
    experiment: Experiment
    filters: Filters
    arms: list[Arm]
    threats: list[Threat]
    sources: list[Source]
    participants: ParticipantColumns
    # (arm_id, threat_id) -> (marked real, answered)
    selections: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    consort: dict = field(default_factory=dict)
    # Each participant's stratum for the stratified tests, entry i participant ids[i]: the randomisation's stratum
    # ("" when not stratified), with the session's join code where the experiment stratifies by session.
    strata: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))

    def in_arm(self, arm: Arm) -> ParticipantColumns:
        return self.participants.where(self.participants.arm_ids == arm.pk)

    def strata_in_arm(self, arm: Arm) -> np.ndarray:
        """The strata of ``in_arm(arm)``'s participants, in the same order."""
        return self.strata[self.participants.arm_ids == arm.pk]


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
    sources = sources_for(list(every_diagram.values()))
    threats = list(experiment.scenario.threats.order_by("position"))
    chosen = participants(experiment, filters)
    people = columns(chosen, threats, experiment.ask_confidence, rated=[source.key for source in sources])
    selections = {}
    for arm in arms:
        in_arm = people.arm_ids == arm.pk
        marked, answered = people.marked[in_arm].sum(axis=0), people.answered[in_arm].sum(axis=0)
        for t, threat in enumerate(threats):
            selections[(arm.pk, threat.pk)] = (int(marked[t]), int(answered[t]))
    return Dataset(
        experiment=experiment,
        filters=filters,
        arms=arms,
        threats=threats,
        sources=sources,
        participants=people,
        selections=selections,
        consort=consort(experiment, filters, arms),
        strata=_strata(chosen, people.ids, experiment.stratify_analysis_by_session),
    )


def _strata(chosen: QuerySet[Participant], ids: np.ndarray, by_session: bool) -> np.ndarray:
    """Each of ``ids``' stratum label: the randomisation stratum, joined with the session's join code when
    ``by_session``; one query, matched by id so a participant who completed meanwhile cannot shift the others."""
    fields = ("id", "stratum", "session__join_code") if by_session else ("id", "stratum")
    labels = {row[0]: " / ".join(str(part) for part in row[1:]) for row in chosen.values_list(*fields)}
    return np.array([labels.get(i, "") for i in ids.tolist()], dtype=object)


def columns(
    chosen: QuerySet[Participant], threats: list[Threat], with_confidence: bool, rated: Sequence[str] = ()
) -> ParticipantColumns:
    """The chosen participants as columns, scored against ``threats`` (the scenario's, in position order); their
    mean confidence only ``with_confidence``, their ratings of the ``rated`` source keys."""
    people = _table(chosen.order_by("id").values_list("id", "arm_id"), 2, np.int64)
    ids = people[:, 0]
    marked, answered, mean_confidence = _answers(chosen, ids, threats, with_confidence)
    scores = scoring.score(**scoring.count(np.array([t.is_real for t in threats], dtype=bool), marked, answered))
    return ParticipantColumns(
        ids=ids,
        arm_ids=people[:, 1],
        marked=marked,
        answered=answered,
        **{f.name: getattr(scores, f.name) for f in fields(scores)},
        mean_confidence=mean_confidence,
        ratings=_ratings(chosen, ids, rated),
        rated=tuple(rated),
    )


def _table(values: QuerySet, width: int, dtype: type) -> np.ndarray:
    """The rows of a ``values(...)`` or ``values_list(...)`` queryset of ``width`` columns as one 2-D array, columns
    in order (None becomes NaN in a float table), also when there are no rows."""
    # Not through the ORM's converter per value (int() for each count), which took longer than the queries for
    # 100,000 rows: numpy converts a whole column at once instead. Converted as fetched, so that no more than
    # FETCH_ROWS rows are Python tuples at once.
    sql, params = values.query.sql_with_params()
    parts = [np.zeros((0, width), dtype)]
    with connections[values.db].cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH_ROWS):
            parts.append(np.array(rows, dtype=dtype).reshape(len(rows), width))
    return np.concatenate(parts)


def positions(ids: np.ndarray, participant_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``participant_ids`` is in ``ids`` (ascending), and whether it is there at all.

    The lab may go on while the analysis runs: a participant who completed between the queries is in the later ones
    only, and is left out rather than mistaken for its neighbour in ``ids``.
    """
    at = np.minimum(np.searchsorted(ids, participant_ids), max(len(ids) - 1, 0))
    found = ids[at] == participant_ids if len(ids) else np.zeros(len(participant_ids), dtype=bool)
    return at, found


def _rows_of(ids: np.ndarray, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each row's participant (first column) is in ``ids``, and the rows whose participant is there."""
    at, found = positions(ids, table[:, 0].astype(np.int64))
    return at[found], table[found]


def _chunks(items: Sequence, size: int) -> list[Sequence]:
    return [items[first : first + size] for first in range(0, len(items), size)]


def _answers(
    chosen: QuerySet[Participant], ids: np.ndarray, threats: list[Threat], with_confidence: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which threats each participant marked real and which it answered (a row per participant in ``ids``, a column
    per threat), and its mean confidence: one aggregate over the chosen participants' answers.

    The database only counts: which bits of a mask were answered, which marked real. The scores and the per-threat
    selections both follow from these two tables.
    """
    chunks = _chunks(threats, THREATS_PER_MASK)
    aggregates = {}
    for c, chunk in enumerate(chunks):
        bit = Case(*(When(threat_id=threat.pk, then=Value(1 << b)) for b, threat in enumerate(chunk)), default=0)
        aggregates[f"marked_{c}"] = Sum(bit, filter=Q(choice=Choice.APPLICABLE), default=0)
        aggregates[f"answered_{c}"] = Sum(bit, default=0)
    if with_confidence:
        aggregates["mean_confidence"] = Avg("confidence")
    marked = np.zeros((len(ids), len(threats)), dtype=bool)
    answered = np.zeros((len(ids), len(threats)), dtype=bool)
    confidence = np.full(len(ids), np.nan)
    if not aggregates:  # a scenario without threats: nothing to count (and no GROUP BY without an aggregate)
        return marked, answered, confidence
    # Grouped by the answers' participant_id rather than LEFT JOINed from the participants: 0.5 s instead of 0.7 s
    # on a million answers. A participant without answers has no row here and keeps False everywhere.
    answers = Answer.objects.filter(participant__in=chosen).order_by().values("participant_id")
    # The masks are integers below 2**31, exact as doubles too; the mean confidence is the database's mean converted
    # as float() converts it, NaN where no confidence was given.
    table = _table(answers.annotate(**aggregates), 1 + len(aggregates), float if with_confidence else np.int64)
    at, table = _rows_of(ids, table)
    for c, chunk in enumerate(chunks):
        marked_masks, answered_masks = table[:, 1 + 2 * c].astype(np.int64), table[:, 2 + 2 * c].astype(np.int64)
        for b in range(len(chunk)):
            marked[at, c * THREATS_PER_MASK + b] = (marked_masks >> b) & 1
            answered[at, c * THREATS_PER_MASK + b] = (answered_masks >> b) & 1
    if with_confidence:
        confidence[at] = table[:, -1]
    return marked, answered, confidence


def _ratings(chosen: QuerySet[Participant], ids: np.ndarray, keys: Sequence[str]) -> np.ndarray:
    """Each participant's rating per source key, one column per key, NaN where there is none.

    Summed per participant in the database, three bits per source (see ``SOURCES_PER_PACK``): 100,000 rows of one
    integer instead of 650,000 ratings. Ratings of other sources add nothing.
    """
    # Packed because that was a third faster to fetch and convert than a column per source; other sources are not
    # filtered out in SQL because that cost a fifth more.
    packs = _chunks(keys, SOURCES_PER_PACK)
    sums = {}
    for c, pack in enumerate(packs):
        shifted = (When(source=key, then=F("value") * (1 << 3 * k)) for k, key in enumerate(pack))
        sums[f"ratings_{c}"] = Sum(Case(*shifted, default=0, output_field=IntegerField()), default=0)
    ratings = np.zeros((len(ids), len(keys)))
    if sums:
        given = UsefulnessRating.objects.filter(participant__in=chosen).order_by().values("participant_id")
        at, table = _rows_of(ids, _table(given.annotate(**sums), 1 + len(sums), np.int64))
        for i in range(len(keys)):
            c, k = divmod(i, SOURCES_PER_PACK)
            ratings[at, i] = (table[:, 1 + c] >> 3 * k) & 0b111
    ratings[ratings == 0] = np.nan
    return ratings


def strata_of(experiment: Experiment) -> list[str]:
    return sorted(
        set(
            Participant.objects.filter(session__experiment=experiment)
            .exclude(stratum="")
            .values_list("stratum", flat=True)
        )
    )
