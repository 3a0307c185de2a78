"""One participant's marks scored against the truth: the counts and metrics of the original study's slides.

A threat marked "applicable" is a claim that it is real. True positive: a real threat marked; false negative: a
real threat left unmarked; false positive: a fake threat marked; true negative: a fake threat left unmarked.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Score:
    """Counts and metrics of one participant; a metric is None when its denominator is zero (undefined)."""

    tp: int
    fn: int
    fp: int
    tn: int
    precision: float | None
    recall: float | None
    f1: float | None
    accuracy: float | None


def _ratio(numerator: int, denominator: int) -> float | None:
    # Undefined is reported as missing, never as 0: a participant who marked nothing made no claim to be wrong about.
    return numerator / denominator if denominator else None


def score(marks: Sequence[tuple[bool, bool]]) -> Score:
    """Score a participant's marks, each item ``(is_real, marked_real)``; the metrics as in ``score_counts``."""
    return score_counts(
        tp=sum(1 for is_real, marked in marks if is_real and marked),
        fn=sum(1 for is_real, marked in marks if is_real and not marked),
        fp=sum(1 for is_real, marked in marks if not is_real and marked),
        tn=sum(1 for is_real, marked in marks if not is_real and not marked),
    )


def score_counts(tp: int, fn: int, fp: int, tn: int) -> Score:
    """The same Score from counts already made (the database counts them for large analyses).

    precision = TP / (TP + FP), None when nothing was marked real;
    recall = TP / (TP + FN), None when no threat was real;
    f1 = 2 TP / (2 TP + FP + FN), the harmonic mean of the two, None only when there was no real threat and nothing
    was marked (so marking nothing among real threats scores 0, not missing);
    accuracy = (TP + TN) / number of threats, None when there were none.
    """
    return Score(
        tp=tp,
        fn=fn,
        fp=fp,
        tn=tn,
        precision=_ratio(tp, tp + fp),
        recall=_ratio(tp, tp + fn),
        f1=_ratio(2 * tp, 2 * tp + fp + fn),
        accuracy=_ratio(tp + tn, tp + fn + fp + tn),
    )


def score_columns(tp: np.ndarray, fn: np.ndarray, fp: np.ndarray, tn: np.ndarray) -> dict[str, np.ndarray]:
    """``score_counts`` over arrays of counts, one entry per participant: the same metrics, NaN where it has None.

    The analysis of 100,000 participants computes these in a few milliseconds, where one Score per participant
    took half a second. Each ratio is the same double: both divide two exactly represented integers.
    """
    return {
        "precision": _ratios(tp, tp + fp),
        "recall": _ratios(tp, tp + fn),
        "f1": _ratios(2 * tp, 2 * tp + fp + fn),
        "accuracy": _ratios(tp + tn, tp + fn + fp + tn),
    }


def _ratios(numerators: np.ndarray, denominators: np.ndarray) -> np.ndarray:
    ratios = np.full(len(numerators), np.nan)
    np.divide(numerators, denominators, out=ratios, where=denominators != 0)
    return ratios
