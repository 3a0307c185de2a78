"""Participants' answers scored against the truth: the counts and metrics of the original study's slides.

The rules are here and nowhere else; the analysis, the exports and the tests all score through this module.
A threat marked "applicable" is a claim that it is real. True positive: a real threat marked; false negative: a
real threat left unmarked; false positive: a fake threat marked; true negative: a fake threat left unmarked.
A threat left unanswered counts nowhere.
"""

from dataclasses import dataclass

import numpy as np

# (is the threat real, did the participant mark it real) -> its outcome.
OUTCOMES = {(True, True): "tp", (True, False): "fn", (False, True): "fp", (False, False): "tn"}


def outcome(is_real: bool, marked_real: bool) -> str:
    """One answer against the key: ``"tp"``, ``"fn"``, ``"fp"`` or ``"tn"``."""
    return OUTCOMES[(is_real, marked_real)]


def count(is_real: np.ndarray, marked: np.ndarray, answered: np.ndarray) -> dict[str, np.ndarray]:
    """Each participant's tp, fn, fp and tn.

    ``is_real`` holds a boolean per threat; ``marked`` (marked real) and ``answered`` a row of booleans per
    participant with a column per threat, in the same order. Entry i of each count is row i's.
    """
    return {
        name: (answered & (marked == marked_real) & (is_real == real)).sum(axis=1, dtype=np.int64)
        for (real, marked_real), name in OUTCOMES.items()
    }


@dataclass(frozen=True)
class Scores:
    """Counts and metrics, one entry per participant (or one number for one); NaN where a metric is undefined."""

    tp: np.ndarray
    fn: np.ndarray
    fp: np.ndarray
    tn: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    accuracy: np.ndarray


def score(tp, fn, fp, tn) -> Scores:
    """The metrics of the counts: numbers, or arrays with an entry per participant.

    precision = TP / (TP + FP), undefined when nothing was marked real;
    recall = TP / (TP + FN), undefined when no threat was real;
    f1 = 2 TP / (2 TP + FP + FN), the harmonic mean of the two, undefined only when there was no real threat and
    nothing was marked (so marking nothing among real threats scores 0, not missing);
    accuracy = (TP + TN) / number of threats answered, undefined when there were none.
    Each defined metric is the double that Python's ``/`` gives for the same two integers.
    """
    tp, fn, fp, tn = (np.asarray(counts, dtype=np.int64) for counts in (tp, fn, fp, tn))
    return Scores(
        tp=tp,
        fn=fn,
        fp=fp,
        tn=tn,
        precision=_ratio(tp, tp + fp),
        recall=_ratio(tp, tp + fn),
        f1=_ratio(2 * tp, 2 * tp + fp + fn),
        accuracy=_ratio(tp + tn, tp + fn + fp + tn),
    )


def _ratio(numerators: np.ndarray, denominators: np.ndarray) -> np.ndarray:
    # Undefined is missing (NaN), never 0: a participant who marked nothing made no claim to be wrong about.
    ratios = np.full(np.shape(numerators), np.nan)
    np.divide(numerators, denominators, out=ratios, where=denominators != 0)
    return ratios
