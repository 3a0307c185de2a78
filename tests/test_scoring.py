"""Scoring one participant's marks, checked on hand-worked examples (no database)."""

import pytest

from analysis.scoring import score, score_counts

REAL, FAKE = True, False
MARKED, LEFT = True, False


def test_the_slides_metrics_on_a_hand_worked_sheet():
    # Five real and five fake threats, as in the original study. Marked: three real, two fake.
    marks = [(REAL, MARKED)] * 3 + [(REAL, LEFT)] * 2 + [(FAKE, MARKED)] * 2 + [(FAKE, LEFT)] * 3
    result = score(marks)
    assert (result.tp, result.fn, result.fp, result.tn) == (3, 2, 2, 3)
    assert result.precision == pytest.approx(3 / 5)  # 3 / (3 + 2)
    assert result.recall == pytest.approx(3 / 5)  # 3 / (3 + 2)
    assert result.f1 == pytest.approx(0.6)  # 2 * 0.6 * 0.6 / 1.2
    assert result.accuracy == pytest.approx(6 / 10)


def test_precision_is_missing_when_nothing_was_marked_real():
    result = score([(REAL, LEFT)] * 5 + [(FAKE, LEFT)] * 5)
    assert result.precision is None
    assert result.recall == 0
    assert result.accuracy == pytest.approx(0.5)


def test_marking_nothing_among_real_threats_scores_f1_zero_not_missing():
    # F1 = 2TP / (2TP + FP + FN) = 0 / 5: the participant found none of the real threats.
    assert score([(REAL, LEFT)] * 5 + [(FAKE, LEFT)] * 5).f1 == 0


def test_recall_is_missing_when_no_threat_was_real():
    result = score([(FAKE, MARKED), (FAKE, LEFT)])
    assert result.recall is None
    assert result.precision == 0
    assert result.f1 == 0  # 0 / (0 + 1 + 0)


def test_f1_is_missing_only_when_there_was_nothing_real_and_nothing_marked():
    result = score([(FAKE, LEFT), (FAKE, LEFT)])
    assert (result.precision, result.recall, result.f1) == (None, None, None)
    assert result.accuracy == 1


def test_f1_is_the_harmonic_mean_of_precision_and_recall():
    # TP 2, FP 1, FN 3: precision 2/3, recall 2/5, harmonic mean 2 * (4/15) / (16/15) = 1/2 = 2*2 / (4 + 1 + 3).
    result = score([(REAL, MARKED)] * 2 + [(FAKE, MARKED)] + [(REAL, LEFT)] * 3)
    assert result.f1 == pytest.approx(2 * result.precision * result.recall / (result.precision + result.recall))
    assert result.f1 == pytest.approx(0.5)


def test_a_perfect_sheet_scores_one_everywhere():
    result = score([(REAL, MARKED)] * 5 + [(FAKE, LEFT)] * 5)
    assert (result.precision, result.recall, result.f1, result.accuracy) == (1, 1, 1, 1)


def test_an_empty_sheet_scores_zero_counts_and_no_metrics():
    result = score([])
    assert (result.tp, result.fn, result.fp, result.tn) == (0, 0, 0, 0)
    assert (result.precision, result.recall, result.f1, result.accuracy) == (None, None, None, None)


def test_a_score_cannot_be_changed_after_it_is_made():
    result = score([(REAL, MARKED)])
    with pytest.raises(AttributeError):
        result.tp = 2


def test_scoring_from_counts_gives_the_same_score_as_from_marks():
    marks = [(REAL, MARKED)] * 3 + [(REAL, LEFT)] * 2 + [(FAKE, MARKED)] * 2 + [(FAKE, LEFT)] * 3
    assert score_counts(tp=3, fn=2, fp=2, tn=3) == score(marks)
    assert score_counts(0, 0, 0, 0) == score([])
