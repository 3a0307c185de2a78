"""Exports: participants.csv and answers.csv streamed row by row, the codebook, and a replication package.

Rows come from server-side iterators in participant order, so a million answers never sit in memory at once.
Every text cell is neutralised against spreadsheet formula injection.
"""

import csv
import io
import json
import zipfile
from collections.abc import Iterator

from analysis import report
from analysis.columns import ANSWER_COLUMNS, participant_columns
from analysis.dataset import Filters, load, participants, with_counts
from analysis.scoring import score_counts
from experiment import definition
from experiment.models import Answer, Choice, Experiment, UsefulnessRating
from experiment.sources import sources_for

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 2000


def neutralise(value: object) -> object:
    """Prefix a text cell that a spreadsheet would run as a formula with an apostrophe; numbers pass unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
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


def _sources(experiment: Experiment):
    diagrams = {}
    for arm in experiment.arms.order_by("position"):
        for diagram in arm.shown_diagrams():
            diagrams.setdefault(diagram.slug, diagram)
    return sources_for(list(diagrams.values()))


def participant_rows(experiment: Experiment, filters: Filters) -> Iterator[list]:
    """The header, then one row per participant (see analysis.columns for every column)."""
    sources = _sources(experiment)
    yield [c.name for c in participant_columns(sources)]
    chosen = participants(experiment, filters)
    rows = with_counts(
        chosen.order_by("id").values(
            "id",
            "code",
            "session__join_code",
            "arm__slug",
            "block__number",
            "block_position",
            "stratum",
            "is_simulated",
            "stage",
            "consented_at",
            "threats_started_at",
            "usefulness_started_at",
            "completed_at",
            "comment",
        )
    )
    ratings = (
        UsefulnessRating.objects.filter(participant__in=chosen)
        .order_by("participant_id")
        .values_list("participant_id", "source", "value")
        .iterator(chunk_size=CHUNK)
    )
    pending = next(ratings, None)
    for p in rows.iterator(chunk_size=CHUNK):
        mine = {}
        # Both streams are in participant order: take this participant's ratings off the front of the other.
        while pending is not None and pending[0] <= p["id"]:
            if pending[0] == p["id"]:
                mine[pending[1]] = pending[2]
            pending = next(ratings, None)
        score = score_counts(p["tp"], p["fn"], p["fp"], p["tn"])
        row = [
            p["code"],
            p["session__join_code"],
            p["arm__slug"],
            p["block__number"],
            p["block_position"],
            p["stratum"],
            p["is_simulated"],
            p["stage"],
            p["consented_at"],
            p["threats_started_at"],
            p["usefulness_started_at"],
            p["completed_at"],
            _seconds(p["consented_at"], p["threats_started_at"]),
            _seconds(p["threats_started_at"], p["usefulness_started_at"]),
            _seconds(p["usefulness_started_at"], p["completed_at"]),
            _seconds(p["consented_at"], p["completed_at"]),
            score.tp,
            score.fn,
            score.fp,
            score.tn,
            score.precision,
            score.recall,
            score.f1,
            score.accuracy,
            *(mine.get(source.key) for source in sources),
            p["comment"],
        ]
        yield [_cell(value) for value in row]


_OUTCOME = {(True, True): "TP", (True, False): "FN", (False, True): "FP", (False, False): "TN"}


def answer_rows(experiment: Experiment, filters: Filters) -> Iterator[list]:
    """The header, then one row per participant and threat, in participant order and the order shown."""
    yield [c.name for c in ANSWER_COLUMNS]
    answers = (
        Answer.objects.filter(participant__in=participants(experiment, filters))
        .order_by("participant_id", "position")
        .values_list(
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
    for code, session, arm, simulated, ref, stride, position, choice, is_real, answered_at in answers.iterator(
        chunk_size=CHUNK
    ):
        outcome = _OUTCOME[(is_real, choice == Choice.APPLICABLE)]
        row = [code, session, arm, simulated, ref, stride, position, choice, is_real, outcome, answered_at]
        yield [_cell(value) for value in row]


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
    for name, columns in (
        ("participants.csv", participant_columns(_sources(experiment))),
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
        archive.writestr("codebook.md", codebook(experiment))
        archive.writestr("experiment.json", json.dumps(definition.dump(experiment), indent=2, ensure_ascii=False))
        results = report.build(load(experiment, filters), tost_margin)
        archive.writestr("results.json", json.dumps(results, indent=2, ensure_ascii=False, default=str))
    return buffer.getvalue()
