"""Exports: participants.csv and answers.csv streamed row by row, the codebook, and a replication package.

Rows come from server-side iterators in participant order, so a million answers never sit in memory at once.
Every text cell is neutralised against spreadsheet formula injection.
"""

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import fields
from itertools import islice

import numpy as np
from django.db.models import BooleanField, Case, Value, When

from analysis import dataset, report, scoring
from analysis.columns import ANSWER_COLUMNS, participant_columns
from analysis.dataset import Filters, implausibly_fast, load, participants
from experiment import definition
from experiment.models import Answer, Choice, Experiment, ItemResponse, UsefulnessRating
from experiment.sources import sources_for

# A spreadsheet runs a cell as a formula when its first visible character is one of these, in ASCII or fullwidth
# (＝＋－＠), also after whitespace or zero-width characters (U+200B..U+200D, U+2060, U+FEFF); a cell starting
# with a tab or CR is prefixed as well.
_FORMULA_START = re.compile(r"[\t\r]|[\s\u200b-\u200d\u2060\ufeff]*[=+\-@\uff1d\uff0b\uff0d\uff20]")
CHUNK = 2000


def neutralise(value: object) -> object:
    """Prefix a text cell that a spreadsheet would run as a formula with an apostrophe; numbers pass unchanged."""
    if isinstance(value, str) and _FORMULA_START.match(value):
        return "'" + value
    return value


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return neutralise(value)


def _seconds(start, end) -> float | None:
    return round((end - start).total_seconds(), 3) if start and end else None


def _layout(experiment: Experiment):
    """The sources, diagrams and questionnaire items whose columns participants.csv carries, in order."""
    diagrams = {}
    for arm in experiment.arms.order_by("position"):
        for diagram in arm.shown_diagrams():
            diagrams.setdefault(diagram.slug, diagram)
    items = [
        (questionnaire.placement, item)
        for questionnaire in experiment.questionnaires.order_by("placement").prefetch_related("items")
        for item in questionnaire.items.all()
    ]
    return sources_for(list(diagrams.values())), list(diagrams), items


def _grouped(rows: Iterator[tuple]) -> Iterator[tuple[int, list[tuple]]]:
    """(participant_id, its rows) from a stream of rows ordered by participant_id (first field)."""
    current, group = None, []
    for row in rows:
        if row[0] != current and group:
            yield current, group
            group = []
        current = row[0]
        group.append(row)
    if group:
        yield current, group


class _Follower:
    """Walks a grouped stream in step with the participants, both in id order."""

    def __init__(self, rows: Iterator[tuple]):
        self.groups = _grouped(rows)
        self.pending = next(self.groups, None)

    def take(self, participant_id: int) -> list[tuple]:
        while self.pending is not None and self.pending[0] < participant_id:
            self.pending = next(self.groups, None)
        if self.pending is not None and self.pending[0] == participant_id:
            group, self.pending = self.pending[1], next(self.groups, None)
            return group
        return []


# The counts and metrics, from analysis.scoring.
SCORES = tuple(f.name for f in fields(scoring.Scores))
# Copied as they are from the participant into its row.
TIMES_AND_COMMENT = (
    "consented_at",
    "assigned_at",
    "threats_started_at",
    "usefulness_started_at",
    "exit_started_at",
    "completed_at",
    "comment",
)


def _with_scores(rows: Iterator[dict], scored: dataset.ParticipantColumns) -> Iterator[tuple[dict, dict]]:
    """Each participant's row with its scores and mean confidence as plain values (None where missing), in the
    order of ``rows``; one who completed after the scoring is left out, as the analysis leaves it out."""
    keys = (*SCORES, "mean_confidence")
    # Converted a batch at a time: one conversion per participant took a second per 100,000 participants, and
    # all of them at once held them all in memory.
    while batch := list(islice(rows, CHUNK)):
        at, found = dataset.positions(scored.ids, np.array([p["id"] for p in batch], dtype=np.int64))
        plain = {key: dataset.listed(scored.metric(key)[at]) for key in keys}
        for j, is_scored in enumerate(found.tolist()):
            if is_scored:
                yield batch[j], {key: plain[key][j] for key in keys}


def participant_rows(experiment: Experiment, filters: Filters) -> Iterator[list]:
    """The header, then one row per participant (see analysis.columns for every column)."""
    sources, diagram_slugs, items = _layout(experiment)
    header = [c.name for c in participant_columns(sources, diagram_slugs, items)]
    yield header
    chosen = participants(experiment, filters)
    # Scored as the analysis scores them. The export carries whatever confidence was given, as answers.csv does.
    scored = dataset.columns(chosen, list(experiment.scenario.threats.order_by("position")), with_confidence=True)
    fast = implausibly_fast(experiment)
    rows = (
        chosen.order_by("id")
        .annotate(fast=Case(When(fast, then=Value(True)), default=Value(False), output_field=BooleanField()))
        .values(
            "id",
            "code",
            "session__join_code",
            "arm__slug",
            "block__number",
            "block_position",
            "stratum",
            "is_simulated",
            "stage",
            *TIMES_AND_COMMENT,
            "exposure",
            "fast",
        )
    )
    ratings = _Follower(
        UsefulnessRating.objects.filter(participant__in=chosen)
        .order_by("participant_id")
        .values_list("participant_id", "source", "value")
        .iterator(chunk_size=CHUNK)
    )
    responses = _Follower(
        ItemResponse.objects.filter(participant__in=chosen)
        .order_by("participant_id")
        .values_list("participant_id", "item__questionnaire__placement", "item__key", "row", "value")
        .iterator(chunk_size=CHUNK)
    )
    item_kinds = {(placement, item.key): item.kind for placement, item in items}
    for p, plain in _with_scores(rows.iterator(chunk_size=CHUNK), scored):
        values = {
            "participant_code": p["code"],
            "session": p["session__join_code"],
            "arm": p["arm__slug"],
            "block": p["block__number"],
            "block_position": p["block_position"],
            "stratum": p["stratum"],
            "is_simulated": p["is_simulated"],
            "stage": p["stage"],
            **{key: p[key] for key in TIMES_AND_COMMENT},
            "training_seconds": _seconds(p["assigned_at"], p["threats_started_at"]),
            "threats_seconds": _seconds(p["threats_started_at"], p["usefulness_started_at"]),
            "usefulness_seconds": _seconds(p["usefulness_started_at"], p["exit_started_at"] or p["completed_at"]),
            "total_seconds": _seconds(p["consented_at"], p["completed_at"]),
            "implausibly_fast": p["fast"],
            **{key: plain[key] for key in SCORES},
            "mean_confidence": None if plain["mean_confidence"] is None else round(plain["mean_confidence"], 3),
        }
        for _id, source, value in ratings.take(p["id"]):
            values[f"rating_{source}"] = value
        for page, seconds in (p["exposure"] or {}).items():
            for key, value in seconds.items():
                values[f"exposure_{page}_{key}"] = value
        for _id, placement, key, row, value in responses.take(p["id"]):
            name = (
                f"{placement}_{key}_{row}"
                if item_kinds.get((placement, key)) == "likert_rows"
                else f"{placement}_{key}"
            )
            values[name] = value
        yield [_cell(values.get(column)) for column in header]


# answers.csv's label of each (is_real, marked real), looked up once per answer.
_OUTCOME = {marks: scoring.outcome(*marks).upper() for marks in scoring.OUTCOMES}


def answer_rows(experiment: Experiment, filters: Filters) -> Iterator[list]:
    """The header, then one row per participant and threat, in participant order and the order shown."""
    yield [c.name for c in ANSWER_COLUMNS]
    answers = (
        Answer.objects.filter(participant__in=participants(experiment, filters))
        .order_by("participant_id", "position")
        .values_list(
            "confidence",
            "participant__code",
            "participant__session__join_code",
            "participant__arm__slug",
            "participant__is_simulated",
            "threat__ref",
            "threat__stride",
            "position",
            "choice",
            "threat__is_real",
            "answered_at",
        )
    )
    for sure, code, session, arm, simulated, ref, stride, position, choice, is_real, answered_at in answers.iterator(
        chunk_size=CHUNK
    ):
        outcome = _OUTCOME[(is_real, choice == Choice.APPLICABLE)]
        row = [code, session, arm, simulated, ref, stride, position, choice, is_real, outcome, sure, answered_at]
        yield [_cell(value) for value in row]


CONSORT_COLUMNS = [
    "arm",
    "assigned",
    "completed",
    "excluded_simulated",
    "excluded_incomplete",
    "excluded_implausibly_fast",
    "flagged_implausibly_fast",
    "analysed",
]


def consort_rows(experiment: Experiment, filters: Filters) -> Iterator[list]:
    """The CONSORT flow per arm, then a line for those not yet assigned and one for declined consents."""
    flow = load(experiment, filters)
    analysed = {arm.name: len(flow.in_arm(arm)) for arm in flow.arms}
    yield CONSORT_COLUMNS
    for arm in flow.consort["arms"]:
        excluded = arm["excluded"]
        yield [
            _cell(v)
            for v in (
                arm["arm"],
                arm["assigned"],
                arm["completed"],
                excluded["simulated"],
                excluded["incomplete"],
                excluded["implausibly_fast"],
                arm["implausibly_fast"],
                analysed[arm["arm"]],
            )
        ]
    yield ["(awaiting assignment)", flow.consort["awaiting_assignment"], "", "", "", "", "", ""]
    yield ["(declined consent)", _cell(flow.consort["declined"]), "", "", "", "", "", ""]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterator[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)


def codebook(experiment: Experiment) -> str:
    """Markdown: every column of both files, the answer key and the scoring rules."""
    lines = [
        f"# Codebook: {experiment.title}",
        "",
        f"Experiment `{experiment.slug}`, scenario "
        f"`{experiment.scenario.slug}`. Times are UTC. Empty cells are missing values.",
        "",
    ]
    sources, diagram_slugs, items = _layout(experiment)
    for name, columns in (
        ("participants.csv", participant_columns(sources, diagram_slugs, items)),
        ("answers.csv", ANSWER_COLUMNS),
    ):
        lines += [f"## {name}", "", "| column | type | meaning | allowed values |", "|---|---|---|---|"]
        lines += [f"| `{c.name}` | {c.type} | {c.meaning} | {c.allowed} |" for c in columns]
        lines.append("")
    lines += ["## Answer key", "", "| threat | STRIDE | real | rationale | source |", "|---|---|---|---|---|"]
    for threat in experiment.scenario.threats.order_by("position"):
        cells = [
            threat.ref,
            threat.get_stride_display(),
            "yes" if threat.is_real else "no",
            threat.rationale,
            threat.source,
        ]
        lines.append("| " + " | ".join(str(c).replace("|", "/").replace("\n", " ") for c in cells) + " |")
    lines += [
        "",
        "## Scoring rules",
        "",
        "- A threat answered `applicable` is a claim that it is real.",
        "- TP: real and marked applicable; FN: real and marked not applicable; FP: fake and marked applicable;"
        " TN: fake and marked not applicable.",
        "- precision = TP / (TP + FP), missing when nothing was marked applicable (left out of that test);"
        " recall = TP / (TP + FN); F1 = 2 TP / (2 TP + FP + FN); accuracy = (TP + TN) / threats.",
        "- Arms are compared with the tests named in results.json, each with its method.",
        "",
    ]
    return "\n".join(lines)


def replication_package(experiment: Experiment, filters: Filters, tost_margin: float = 1.0) -> bytes:
    """A zip: both CSV files, the codebook, the experiment definition and the analysis results as JSON."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("participants.csv", "".join(csv_lines(participant_rows(experiment, filters))))
        archive.writestr("answers.csv", "".join(csv_lines(answer_rows(experiment, filters))))
        archive.writestr("consort.csv", "".join(csv_lines(consort_rows(experiment, filters))))
        archive.writestr("codebook.md", codebook(experiment))
        archive.writestr("experiment.json", json.dumps(definition.dump(experiment), indent=2, ensure_ascii=False))
        results = report.build(load(experiment, filters), tost_margin)
        archive.writestr("results.json", json.dumps(results, indent=2, ensure_ascii=False, default=str))
    return buffer.getvalue()
