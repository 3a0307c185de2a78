"""The analysis of one experiment as plain data: what the admin view shows, `analyze` prints and the export keeps.

Built from a Dataset by pure code over its columns, so the three always agree. Each test result carries the method
it used and a one-line APA report.
"""

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from analysis import planning, stats, strata
from analysis.dataset import Dataset, listed
from experiment.models import Hypothesis

# (key, label, higher is better), in experiment.models.OUTCOMES' order.
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
# FN = real threats - TP and recall = TP / real threats: once every threat is answered, a Mann-Whitney test of
# either is TP's test (FN's in the other direction), so they take TP's Holm-adjusted p instead of joining the family.
SAME_TEST = {"fn": "tp", "recall": "tp"}
CONFIDENCE = ("mean_confidence", "Mean confidence (1..5)", True)
METRIC_LABELS = {key: label for key, label, _better in METRICS}


def _rated(column: np.ndarray) -> np.ndarray:
    """The ratings given: a participant who did not rate a source is not a missing value among its ratings."""
    return column[~np.isnan(column)]


def _p_text(p: float | None) -> str:
    """A p value for a table cell: ".092", "< .001", "> .999", "n/a"."""
    return stats.format_p(p).removeprefix("p = ").removeprefix("p ")


def _plain(result: Any) -> dict:
    data = dataclasses.asdict(result)
    data["apa"] = result.apa()
    if isinstance(result, stats.MannWhitney):
        data["ci"] = result.ci_text()
        data["u_text"] = stats.format_u(result.u)
    if "p" in data:
        data["p_text"] = _p_text(data["p"])
    return data


def direction(first: str, second: str, alternative: str) -> str:
    """The tested direction in the arms' names: "DFD > Control, one-sided"."""
    sign = {"greater": ">", "less": "<"}.get(alternative)
    return f"{first} {sign} {second}, one-sided" if sign else f"{first} ≠ {second}, two-sided"


def _alternative(hypothesis: str, higher_is_better: bool) -> str:
    if hypothesis != Hypothesis.GREATER:
        return "two-sided"
    return "greater" if higher_is_better else "less"


def margins(experiment, overrides: Mapping[str, float] | None = None) -> dict[str, dict]:
    """Each outcome's equivalence margin: the experiment's declared one, or the one a researcher set in the
    filters; {"margin", "rationale", "source"} per outcome that has one."""
    chosen = {
        key: {"margin": float(entry["margin"]), "rationale": entry.get("rationale", ""), "source": "declared"}
        for key, entry in experiment.equivalence_margins.items()
    }
    for key, margin in (overrides or {}).items():
        chosen[key] = {"margin": float(margin), "rationale": "set in the filters", "source": "filters"}
    return chosen


def build(dataset: Dataset, margin_overrides: Mapping[str, float] | None = None) -> dict:
    """Descriptives per arm, tests between arms, ratings, per-threat selection; see the module docstring.

    Equivalence (TOST) is tested only for the outcomes with a margin, declared by the experiment or overridden
    here; Holm adjusts over the experiment's declared family.
    """
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
    equivalence = margins(dataset.experiment, margin_overrides)
    report["margins"] = equivalence
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
            entry["direction"] = direction(arms[0].name, arms[1].name, alternative)
            entry["test"] = _plain(stats.mann_whitney(first, second, alternative))
            entry["slides"] = _plain(stats.slides_convention(first, second))
            entry["slides_uncorrected"] = _plain(stats.slides_convention(first, second, correction=False))
            if key in equivalence:
                entry["tost"] = _plain(stats.tost_mann_whitney(first, second, equivalence[key]["margin"]))
            entry["van_elteren"] = _plain(strata.van_elteren(_by_stratum(dataset, arms, values), alternative))
            labels = np.concatenate([dataset.strata_in_arm(arm) for arm in arms])
            in_first = np.concatenate([np.ones(len(first), dtype=bool), np.zeros(len(second), dtype=bool)])
            entry["adjusted"] = _plain(strata.adjusted_effect(np.concatenate([first, second]), in_first, labels))
        elif len(arms) > 2:
            groups = {arm.name: values[arm.pk] for arm in arms}
            entry["kruskal"] = _plain(stats.kruskal_wallis(groups))
            entry["dunn"] = _plain(stats.dunn(groups))
        report["metrics"].append(entry)
    report["holm_family"] = [
        key for key in dataset.experiment.holm_family if key in {m["key"] for m in report["metrics"]}
    ]
    _holm(report["metrics"], "test" if two_arms else "kruskal", report["holm_family"])
    report["holm_family_labels"] = [METRIC_LABELS.get(key, CONFIDENCE[1]) for key in report["holm_family"]]
    report["ratings"] = _ratings(dataset, by_arm)
    report["within_arm"] = _within_arm(dataset, by_arm, hypothesis)
    report["threats"] = _threats(dataset)
    report["methods"] = _number_methods(report)
    return report


def _number_methods(report: dict) -> list[str]:
    """Every distinct method text once, in order of first use; each result names its own by ``method_number``
    (from 1), so that a page or a text report can say each method once and point to it."""
    methods: list[str] = []

    def number(result: dict) -> None:
        if result["method"] not in methods:
            methods.append(result["method"])
        result["method_number"] = methods.index(result["method"]) + 1

    for metric in report["metrics"]:
        for key in ("test", "slides_uncorrected", "slides", "tost", "van_elteren", "adjusted", "kruskal", "dunn"):
            if key in metric:
                number(metric[key])
    for rating in report["ratings"]:
        if "test" in rating:
            number(rating["test"])
    for within in report["within_arm"]:
        number(within["wilcoxon"])
        number(within["paired_t"])
    for threat in report["threats"]:
        if "fisher" in threat:
            number(threat["fisher"])
    return methods


def _by_stratum(dataset: Dataset, arms: list, values: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Stratum label -> (first arm's values, second arm's values) in that stratum."""
    first, second = arms
    first_strata, second_strata = dataset.strata_in_arm(first), dataset.strata_in_arm(second)
    return {
        label or "(none)": (values[first.pk][first_strata == label], values[second.pk][second_strata == label])
        for label in sorted(set(first_strata.tolist()) | set(second_strata.tolist()))
    }


def _holm(metrics: list[dict], test_key: str, family_keys: list[str]) -> None:
    family = [m for m in metrics if m["key"] in family_keys and test_key in m]
    adjusted = stats.holm([m[test_key]["p"] for m in family])
    by_key = {}
    for metric, p in zip(family, adjusted, strict=True):
        metric[test_key]["p_holm"] = p
        metric[test_key]["p_holm_text"] = _p_text(p)
        metric[test_key]["p_holm_apa"] = stats.format_p(p)
        metric[test_key]["holm_family"] = list(family_keys)
        by_key[metric["key"]] = p
    for metric in metrics:
        partner = SAME_TEST.get(metric["key"])
        if test_key in metric and metric["key"] not in family_keys and partner in by_key:
            metric[test_key]["p_holm"] = by_key[partner]
            metric[test_key]["p_holm_text"] = _p_text(by_key[partner])
            metric[test_key]["p_holm_apa"] = stats.format_p(by_key[partner])
            metric[test_key]["same_test_as"] = partner


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
        labels = {source.key: str(source.label) for source in dataset.sources}
        entries.append(
            {
                "arm": arm.name,
                "a": kinds["dfd"],
                "b": kinds["sequence"],
                "a_label": labels.get(kinds["dfd"], kinds["dfd"]),
                "b_label": labels.get(kinds["sequence"], kinds["sequence"]),
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


def outcome_bounds(dataset: Dataset, key: str) -> tuple[float, float]:
    """The range an outcome's values lie in: counts up to the number of real (TP, FN) or fake (FP, TN) threats,
    shares between 0 and 1, the confidence rating 1..5."""
    real = sum(threat.is_real for threat in dataset.threats)
    if key in ("tp", "fn"):
        return 0.0, float(real)
    if key in ("fp", "tn"):
        return 0.0, float(len(dataset.threats) - real)
    if key == "mean_confidence":
        return 1.0, 5.0
    return 0.0, 1.0


def plan_next_study(
    dataset: Dataset,
    key: str,
    n_per_arm: int,
    shift: float | None = None,
    simulations: int = planning.SIMULATIONS,
    seed: int = 0,
) -> dict:
    """Power of the declared test on ``key`` at ``n_per_arm`` and the n per arm for 80% and 90% power, by
    resampling each of the two arms (analysis.planning). ValueError without exactly two arms with values."""
    if len(dataset.arms) != 2:
        raise ValueError("planning compares two arms; choose two with the arm filter")
    label, higher_is_better = next((lb, better) for k, lb, better in METRICS + [CONFIDENCE] if k == key)
    first, second = (dataset.in_arm(arm).metric(key) for arm in dataset.arms)
    alternative = _alternative(dataset.experiment.hypothesis, higher_is_better)
    result = planning.plan(
        first,
        second,
        n_per_arm,
        alternative,
        shift=shift,
        bounds=outcome_bounds(dataset, key),
        simulations=simulations,
        seed=seed,
    )
    return _plain(result) | {
        "key": key,
        "label": label,
        "direction": direction(dataset.arms[0].name, dataset.arms[1].name, alternative),
    }
