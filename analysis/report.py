"""The analysis of one experiment as plain data: what the admin view shows, `analyze` prints and the export keeps.

Built from a Dataset by pure code over its columns, so the three always agree. Each test result carries the method
it used and a one-line APA report.
"""

import dataclasses
from typing import Any

import numpy as np

from analysis import stats
from analysis.dataset import Dataset, listed
from experiment.models import Hypothesis

# (key, label, higher is better). The first five are the original study's outcomes: the Holm family.
METRICS = [
    ("tp", "True positives (TP)", True),
    ("fn", "False negatives (FN)", False),
    ("fp", "False positives (FP)", False),
    ("precision", "Precision", True),
    ("recall", "Recall", True),
    ("tn", "True negatives (TN)", True),
    ("f1", "F1", True),
    ("accuracy", "Accuracy", True),
]
HOLM_FAMILY = ("tp", "fn", "fp", "precision", "recall")
CONFIDENCE = ("mean_confidence", "Mean confidence (1..5)", True)
METRIC_LABELS = {key: label for key, label, _better in METRICS}


def _rated(column: np.ndarray) -> np.ndarray:
    """The ratings given: a participant who did not rate a source is not a missing value among its ratings."""
    return column[~np.isnan(column)]


def _plain(result: Any) -> dict:
    data = dataclasses.asdict(result)
    data["apa"] = result.apa()
    return data


def _alternative(hypothesis: str, higher_is_better: bool) -> str:
    if hypothesis != Hypothesis.GREATER:
        return "two-sided"
    return "greater" if higher_is_better else "less"


def build(dataset: Dataset, tost_margin: float = 1.0) -> dict:
    """Descriptives per arm, tests between arms, ratings, per-threat selection; see the module docstring."""
    arms = dataset.arms
    by_arm = {arm.pk: dataset.in_arm(arm) for arm in arms}
    hypothesis = dataset.experiment.hypothesis
    report: dict[str, Any] = {
        "experiment": dataset.experiment.slug,
        "hypothesis": hypothesis,
        "filters": dataclasses.asdict(dataset.filters),
        "excluded": {
            reason: sum(arm["excluded"][reason] for arm in dataset.consort["arms"])
            for reason in ("simulated", "incomplete", "implausibly_fast")
        },
        "consort": dataset.consort,
        "arms": [{"slug": arm.slug, "name": arm.name, "n": len(by_arm[arm.pk])} for arm in arms],
        "n": len(dataset.participants),
        "metrics": [],
        "ratings": [],
        "within_arm": [],
        "threats": [],
    }
    two_arms = len(arms) == 2
    metrics = METRICS + ([CONFIDENCE] if dataset.experiment.ask_confidence else [])
    for key, label, higher_is_better in metrics:
        values = {arm.pk: by_arm[arm.pk].metric(key) for arm in arms}
        entry: dict[str, Any] = {
            "key": key,
            "label": label,
            "per_arm": [_plain(stats.describe(values[arm.pk])) | {"arm": arm.name} for arm in arms],
            "values": [listed(values[arm.pk]) for arm in arms],
        }
        if two_arms:
            first, second = (values[arm.pk] for arm in arms)
            alternative = _alternative(hypothesis, higher_is_better)
            entry["test"] = _plain(stats.mann_whitney(first, second, alternative))
            entry["slides"] = _plain(stats.slides_convention(first, second))
            entry["tost"] = _plain(stats.tost_mann_whitney(first, second, tost_margin))
        elif len(arms) > 2:
            groups = {arm.name: values[arm.pk] for arm in arms}
            entry["kruskal"] = _plain(stats.kruskal_wallis(groups))
            entry["dunn"] = _plain(stats.dunn(groups))
        report["metrics"].append(entry)
    _holm(report["metrics"], "test" if two_arms else "kruskal")
    report["ratings"] = _ratings(dataset, by_arm)
    report["within_arm"] = _within_arm(dataset, by_arm, hypothesis)
    report["threats"] = _threats(dataset)
    return report


def _holm(metrics: list[dict], test_key: str) -> None:
    family = [m for m in metrics if m["key"] in HOLM_FAMILY and test_key in m]
    adjusted = stats.holm([m[test_key]["p"] for m in family])
    for metric, p in zip(family, adjusted, strict=True):
        metric[test_key]["p_holm"] = p
        metric[test_key]["holm_family"] = list(HOLM_FAMILY)


def _ratings(dataset: Dataset, by_arm: dict) -> list[dict]:
    entries = []
    for source in dataset.sources:
        values = {arm.pk: _rated(by_arm[arm.pk].rating(source.key)) for arm in dataset.arms}
        rated = [arm for arm in dataset.arms if len(values[arm.pk])]
        entry: dict[str, Any] = {
            "key": source.key,
            "label": str(source.label),
            "per_arm": [
                _plain(stats.describe(values[arm.pk]))
                | {"arm": arm.name, "distribution": _plain(stats.likert_distribution(values[arm.pk]))}
                for arm in rated
            ],
        }
        if len(rated) == 2:
            entry["test"] = _plain(stats.mann_whitney(values[rated[0].pk], values[rated[1].pk], "two-sided"))
        entries.append(entry)
    return entries


def _within_arm(dataset: Dataset, by_arm: dict, hypothesis: str) -> list[dict]:
    """In each arm that saw a DFD and a sequence diagram: was the DFD rated more useful (paired)?"""
    entries = []
    alternative = "greater" if hypothesis == Hypothesis.GREATER else "two-sided"
    for arm in dataset.arms:
        kinds = {d.kind: f"diagram_{d.slug}" for d in arm.shown_diagrams()}
        if "dfd" not in kinds or "sequence" not in kinds:
            continue
        # Unrated stays NaN here: the paired tests drop and count the incomplete pairs.
        dfd, sequence = by_arm[arm.pk].rating(kinds["dfd"]), by_arm[arm.pk].rating(kinds["sequence"])
        entries.append(
            {
                "arm": arm.name,
                "a": kinds["dfd"],
                "b": kinds["sequence"],
                "wilcoxon": _plain(stats.wilcoxon_signed_rank(dfd, sequence, alternative)),
                "paired_t": _plain(stats.paired_t(dfd, sequence, alternative)),
            }
        )
    return entries


def _threats(dataset: Dataset) -> list[dict]:
    entries = []
    for threat in dataset.threats:
        per_arm = []
        for arm in dataset.arms:
            marked, answered = dataset.selections.get((arm.pk, threat.pk), (0, 0))
            per_arm.append(
                {"arm": arm.name, "marked": marked, "n": answered, "share": marked / answered if answered else None}
            )
        entry: dict[str, Any] = {
            "ref": threat.ref,
            "is_real": threat.is_real,
            "stride": threat.stride,
            "per_arm": per_arm,
        }
        if len(per_arm) == 2:
            a, b = per_arm
            entry["fisher"] = _plain(stats.fisher_exact_2x2(a["marked"], a["n"], b["marked"], b["n"]))
        entries.append(entry)
    return entries
