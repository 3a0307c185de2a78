"""Scoring one participant's marks, checked on hand-worked examples (no database)."""

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pytest

from analysis.scoring import count, outcome, score

REAL, FAKE = True, False
MARKED, LEFT = True, False


def score_sheet(marks: list[tuple[bool, bool]]):
    """One participant's marks, each ``(is_real, marked_real)``, through the one scoring path: counted, then scored.
    Entry 0 of each column, None where the metric is undefined (NaN), as participants.csv writes it empty."""
    is_real = np.array([real for real, _marked in marks], dtype=bool)
    marked = np.array([[marked for _real, marked in marks]], dtype=bool).reshape(1, len(marks))
    scores = score(**count(is_real, marked, answered=np.ones_like(marked)))
    entries = {f.name: getattr(scores, f.name)[0].item() for f in dataclasses.fields(scores)}
    return SimpleNamespace(**{key: None if math.isnan(v) else v for key, v in entries.items()})


def test_the_slides_metrics_on_a_hand_worked_sheet():
    # Five real and five fake threats, as in the original study. Marked: three real, two fake.
    marks = [(REAL, MARKED)] * 3 + [(REAL, LEFT)] * 2 + [(FAKE, MARKED)] * 2 + [(FAKE, LEFT)] * 3
    result = score_sheet(marks)
    assert (result.tp, result.fn, result.fp, result.tn) == (3, 2, 2, 3)
    assert result.precision == pytest.approx(3 / 5)  # 3 / (3 + 2)
    assert result.recall == pytest.approx(3 / 5)  # 3 / (3 + 2)
    assert result.f1 == pytest.approx(0.6)  # 2 * 0.6 * 0.6 / 1.2
    assert result.accuracy == pytest.approx(6 / 10)


def test_precision_is_missing_when_nothing_was_marked_real():
    result = score_sheet([(REAL, LEFT)] * 5 + [(FAKE, LEFT)] * 5)
    assert result.precision is None
    assert result.recall == 0
    assert result.accuracy == pytest.approx(0.5)


def test_marking_nothing_among_real_threats_scores_f1_zero_not_missing():
    # F1 = 2TP / (2TP + FP + FN) = 0 / 5: the participant found none of the real threats.
    assert score_sheet([(REAL, LEFT)] * 5 + [(FAKE, LEFT)] * 5).f1 == 0


def test_recall_is_missing_when_no_threat_was_real():
    result = score_sheet([(FAKE, MARKED), (FAKE, LEFT)])
    assert result.recall is None
    assert result.precision == 0
    assert result.f1 == 0  # 0 / (0 + 1 + 0)


def test_f1_is_missing_only_when_there_was_nothing_real_and_nothing_marked():
    result = score_sheet([(FAKE, LEFT), (FAKE, LEFT)])
    assert (result.precision, result.recall, result.f1) == (None, None, None)
    assert result.accuracy == 1


def test_f1_is_the_harmonic_mean_of_precision_and_recall():
    # TP 2, FP 1, FN 3: precision 2/3, recall 2/5, harmonic mean 2 * (4/15) / (16/15) = 1/2 = 2*2 / (4 + 1 + 3).
    result = score_sheet([(REAL, MARKED)] * 2 + [(FAKE, MARKED)] + [(REAL, LEFT)] * 3)
    assert result.f1 == pytest.approx(2 * result.precision * result.recall / (result.precision + result.recall))
    assert result.f1 == pytest.approx(0.5)


def test_a_perfect_sheet_scores_one_everywhere():
    result = score_sheet([(REAL, MARKED)] * 5 + [(FAKE, LEFT)] * 5)
    assert (result.precision, result.recall, result.f1, result.accuracy) == (1, 1, 1, 1)


def test_an_empty_sheet_scores_zero_counts_and_no_metrics():
    result = score_sheet([])
    assert (result.tp, result.fn, result.fp, result.tn) == (0, 0, 0, 0)
    assert (result.precision, result.recall, result.f1, result.accuracy) == (None, None, None, None)


def test_a_score_cannot_be_changed_after_it_is_made():
    result = score(tp=1, fn=0, fp=0, tn=0)
    with pytest.raises(AttributeError):
        result.tp = 2


def test_each_answer_has_the_outcome_of_the_slides():
    assert outcome(REAL, MARKED) == "tp"
    assert outcome(REAL, LEFT) == "fn"
    assert outcome(FAKE, MARKED) == "fp"
    assert outcome(FAKE, LEFT) == "tn"


def test_counting_scores_each_participant_on_its_own_row_and_skips_unanswered_threats():
    is_real = np.array([REAL, REAL, FAKE, FAKE])
    marked = np.array([[MARKED, LEFT, MARKED, LEFT], [LEFT, LEFT, LEFT, LEFT]])
    answered = np.array([[True, True, True, True], [True, False, True, False]])
    counts = count(is_real, marked, answered)
    assert [counts[key].tolist() for key in ("tp", "fn", "fp", "tn")] == [[1, 0], [1, 1], [1, 0], [1, 1]]


def test_scoring_from_counts_gives_the_same_score_as_from_marks():
    marks = [(REAL, MARKED)] * 3 + [(REAL, LEFT)] * 2 + [(FAKE, MARKED)] * 2 + [(FAKE, LEFT)] * 3
    from_counts = score(tp=3, fn=2, fp=2, tn=3)
    from_marks = score_sheet(marks)
    assert all(getattr(from_counts, f.name) == getattr(from_marks, f.name) for f in dataclasses.fields(from_counts))
    assert all(math.isnan(getattr(score(0, 0, 0, 0), key)) for key in ("precision", "recall", "f1", "accuracy"))
    assert score_sheet([]).precision is None
