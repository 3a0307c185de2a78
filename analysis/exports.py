"""Exports: participants.csv and answers.csv streamed row by row, the codebook, and a replication package.

Rows come from server-side iterators in participant order, so a million answers never sit in memory at once.
Every text cell is neutralised against spreadsheet formula injection.
"""

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import fields
from itertools import islice
from pathlib import Path

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
REPLICATE_R = Path(__file__).with_name("replicate.R")
EXPECTED_COLUMNS = ["test", "outcome", "first_arm", "second_arm", "alternative", "by_session", "statistic", "p"]
# replicate.R recomputes these from participants.csv; the mean confidence is exported rounded, so it is left out.
_RECOMPUTED = ("tp", "fn", "fp", "tn", "precision", "recall", "f1", "accuracy")


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


def layout(experiment: Experiment):
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
    sources, diagram_slugs, items = layout(experiment)
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
    sources, diagram_slugs, items = layout(experiment)
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
    lines += _analysis_plan(experiment)
    lines += RESULTS_SCHEMA + CHANGES
    return "\n".join(lines)


def _analysis_plan(experiment: Experiment) -> list[str]:
    """The codebook's section on the declared plan: each margin with its rationale, the Holm family, the strata."""
    labels = dict((key, label) for key, label, _better in report.METRICS + [report.CONFIDENCE])
    lines = [
        "## Analysis plan",
        "",
        "Equivalence margins, in each outcome's units (an outcome without one gets no equivalence test):",
        "",
        "| outcome | margin | rationale |",
        "|---|---|---|",
    ]
    for key, entry in experiment.equivalence_margins.items():
        rationale = str(entry.get("rationale", "")).replace("|", "/").replace("\n", " ")
        lines.append(f"| {labels.get(key, key)} | {entry['margin']:g} | {rationale} |")
    family = ", ".join(labels.get(key, key) for key in experiment.holm_family) or "none"
    lines += [
        "",
        f"- Holm's adjustment runs over: {family}. FN and recall take TP's adjusted p: once every threat is answered,"
        " FN = real threats - TP and recall = TP / real threats, so their test is TP's.",
        "- Stratified tests (van Elteren; the arm effect adjusted by OLS) take the randomisation stratum"
        + (" and the session" if experiment.stratify_analysis_by_session else "")
        + " as strata.",
        "",
    ]
    return lines


# The shape of results.json and of `manage.py analyze --format json` (the same document).
RESULTS_SCHEMA = [
    "## results.json",
    "",
    "`manage.py analyze --format json` prints the same document. Top level:",
    "",
    "| key | type | meaning |",
    "|---|---|---|",
    "| `experiment`, `hypothesis` | text | the experiment's slug; `two_sided` or `greater` |",
    "| `filters` | object | the filters applied (sessions, arms, simulated, incomplete, fast, stratum) |",
    "| `excluded`, `consort` | object | who was left out and why; the CONSORT flow per arm |",
    "| `arms` | list | `{slug, name, n}` per arm, in the experiment's order |",
    "| `n` | integer | participants analysed |",
    "| `margins` | object | outcome -> `{margin, rationale, source}` (`declared` or `filters`) |",
    "| `holm_family`, `holm_family_labels` | list | the outcomes Holm adjusts over |",
    "| `metrics` | list | one object per outcome (below) |",
    "| `ratings`, `within_arm`, `threats` | list | ratings, paired tests in an arm, Fisher per threat |",
    "| `methods` | list of text | every method once; each result's `method_number` (from 1) points here |",
    "",
    "Each of `metrics`: `key`, `label`, `per_arm` (descriptives: `n`, `n_missing`, `mean`, `sd`, `median`, `q1`, "
    "`q3`, `iqr`, `min`, `max`, `arm`), `values` (per arm, the participants' values, null where missing). With two "
    "arms: `direction` (the tested direction in the arms' names), `test` (Mann-Whitney as R's wilcox.test: `u` = "
    "U1, `u1`, `u2`, `z` (null when exact), `p`, `exact`, `rank_biserial`, `common_language`, `hl_shift`, `hl_ci` "
    "[lower, upper] with null on the open side of a one-sided bound, `hl_ci_confidence`, `p_holm` and "
    "`holm_family` in the family, `same_test_as` for FN and recall), `slides` and `slides_uncorrected` (the "
    "direction-free smaller-tail convention with and without continuity correction), `tost` (only with a margin: "
    "`margin`, `lower`, `upper`, `p`, `equivalent`), `van_elteren` (`strata`, `ns`, `t`, `expected`, `variance`, "
    "`z`, `p`), `adjusted` (`estimate`, `ci`, `p`, `n`, `strata`). With more arms: `kruskal` and `dunn`. Every "
    "result also has `method`, `method_number`, `apa` (a report line) and, where it has a p, `p_text`.",
    "",
]

CHANGES = [
    "## Changes to the analysis",
    "",
    "U, p and the means of an existing class stay as they were. On purpose:",
    "",
    "- The Hodges-Lehmann interval is R's `wilcox.test(conf.int = TRUE)`: exact `qwilcox` order statistics without"
    " ties below 50 per arm (it was one difference wider for many sizes), the inversion of the tie-corrected test"
    " with ties (ties were ignored), a one-sided bound for a one-sided test (it was two-sided), and the level"
    " reached when the samples are too small for 95% (there was no interval).",
    "- Equivalence margins are declared per outcome in the outcome's units. Before, every outcome had 1, which"
    " made any two arms equivalent on the proportions. Existing experiments keep 1 for TP, FN, FP and TN (one"
    " threat) and have none for the proportions; the shipped definitions declare each with its rationale.",
    "- Holm's family is declared; the replication's is TP, FP and precision. Before, it also held FN and recall,"
    " which are TP's test, so the adjusted p values were larger than they should be.",
    "- The slides' convention is labelled direction-free (the smaller tail), shown with and without continuity"
    " correction; the odds ratio is named the sample OR.",
    "- New: van Elteren's stratified test and the arm effect adjusted for the strata.",
    "",
]


def replication_package(
    experiment: Experiment, filters: Filters, margin_overrides: Mapping[str, float] | None = None
) -> bytes:
    """A zip: both CSV files, the codebook, the experiment definition, the analysis results as JSON, and a base-R
    script (replicate.R) that recomputes the tests from the CSV files beside ThreatLab's values (expected.csv)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("participants.csv", "".join(csv_lines(participant_rows(experiment, filters))))
        archive.writestr("answers.csv", "".join(csv_lines(answer_rows(experiment, filters))))
        archive.writestr("consort.csv", "".join(csv_lines(consort_rows(experiment, filters))))
        archive.writestr("codebook.md", codebook(experiment))
        archive.writestr("experiment.json", json.dumps(definition.dump(experiment), indent=2, ensure_ascii=False))
        results = report.build(load(experiment, filters), margin_overrides)
        archive.writestr("results.json", json.dumps(results, indent=2, ensure_ascii=False, default=str))
        archive.writestr("expected.csv", "".join(csv_lines(expected_rows(experiment, results))))
        archive.writestr("replicate.R", REPLICATE_R.read_text(encoding="utf-8"))
    return buffer.getvalue()


def expected_rows(experiment: Experiment, results: dict) -> Iterator[list]:
    """expected.csv: the header, then what replicate.R recomputes (Mann-Whitney or Kruskal-Wallis per outcome,
    van Elteren, Holm over the family, Fisher per threat), each with ThreatLab's statistic and p."""
    yield EXPECTED_COLUMNS
    slugs = [arm["slug"] for arm in results["arms"]]
    first, second = (slugs + ["", ""])[:2]
    by_session = int(experiment.stratify_analysis_by_session)
    r_alternative = {"two-sided": "two.sided", "greater": "greater", "less": "less"}
    metrics = [m for m in results["metrics"] if m["key"] in _RECOMPUTED]
    for metric in metrics:
        if "test" in metric:
            test = metric["test"]
            if test["u"] is not None:
                alternative = r_alternative[test["alternative"]]
                yield ["wilcox", metric["key"], first, second, alternative, by_session, test["u"], test["p"]]
            van_elteren = metric["van_elteren"]
            if van_elteren["z"] is not None:
                row = [first, second, r_alternative[van_elteren["alternative"]], by_session]
                yield ["van_elteren", metric["key"], *row, van_elteren["z"], van_elteren["p"]]
        elif "kruskal" in metric and metric["kruskal"]["h"] is not None:
            yield ["kruskal", metric["key"], "", "", "", by_session, metric["kruskal"]["h"], metric["kruskal"]["p"]]
    for metric in metrics:
        result = metric.get("test") or metric.get("kruskal") or {}
        if metric["key"] in results["holm_family"] and result.get("p_holm") is not None:
            yield ["holm", metric["key"], first, second, "", by_session, "", result["p_holm"]]
    for threat in results["threats"]:
        if "fisher" in threat:
            yield ["fisher", threat["ref"], first, second, "two.sided", by_session, "", threat["fisher"]["p"]]
