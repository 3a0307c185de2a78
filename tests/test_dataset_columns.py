"""The analysis reads participants as columns counted in the database (threats as bits of a mask): they must equal
scoring each participant's answers one by one, and the per-threat selections counting the answers."""

import math
import uuid
from collections import Counter

import numpy as np
import pytest

from analysis import dataset
from analysis.dataset import _rows_of
from analysis.scoring import outcome, score
from experiment.models import Answer, Choice, Participant, Stage, UsefulnessRating
from experiment.rehearsal import simulate
from experiment.services import participation
from threats.models import Stride, Threat

SCORES = ("tp", "fn", "fp", "tn", "precision", "recall", "f1", "accuracy")


def same(column_value: float, expected: float | None) -> bool:
    """A column holds NaN where the expected value is missing (None or NaN), and the very same double elsewhere."""
    missing = expected is None or math.isnan(expected)
    return math.isnan(column_value) if missing else column_value == expected


def test_the_metric_columns_equal_python_division_on_every_small_sheet():
    sheets = [(tp, fn, fp, tn) for tp in range(4) for fn in range(4) for fp in range(4) for tn in range(4)]
    columns = score(*(np.array(column) for column in zip(*sheets, strict=True)))
    for i, (tp, fn, fp, tn) in enumerate(sheets):
        # The very double Python's / gives, missing where the denominator is zero.
        expected = {
            "precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / (tp + fn) if tp + fn else None,
            "f1": 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else None,
            "accuracy": (tp + tn) / (tp + fn + fp + tn) if tp + fn + fp + tn else None,
        }
        for key, value in expected.items():
            assert same(getattr(columns, key)[i], value), (key, (tp, fn, fp, tn))


def test_rows_of_participants_the_first_query_did_not_see_are_left_out():
    # 7 and 11 completed after the participants were read: their rows must not land on 9 or past the end.
    ids = np.array([2, 5, 9])
    table = np.array([[5, 50], [7, 70], [11, 110], [2, 20], [1, 10]])
    at, kept = _rows_of(ids, table)
    assert at.tolist() == [1, 0] and kept[:, 1].tolist() == [50, 20]
    at, kept = _rows_of(np.array([], dtype=np.int64), table)
    assert len(at) == len(kept) == 0


@pytest.fixture
def many_threats(experiment):
    """The mini experiment with 36 threats: more than one mask of 31 bits holds."""
    for position in range(5, 37):
        Threat.objects.create(
            scenario=experiment.scenario,
            ref=f"EXTRA-{position}",
            position=position,
            title=f"Extra threat {position}",
            description="An extra threat",
            stride=Stride.TAMPERING,
            assumptions=[],
            affected_components=["A"],
            is_real=position % 3 == 0,
            rationale="test",
            source="test",
        )
    return experiment


@pytest.mark.django_db
def test_the_columns_equal_scoring_each_participants_answers(many_threats, lab):
    simulate(lab, 8, profile="random", seed=4)
    people = list(Participant.objects.filter(session=lab).order_by("id"))
    # Missing values of each kind: nothing marked; not finished after 20 threats; no ratings; no answers at all.
    Answer.objects.filter(participant=people[0]).update(choice=Choice.NOT_APPLICABLE)
    Answer.objects.filter(participant=people[1], position__gt=20).delete()
    Participant.objects.filter(pk=people[1].pk).update(stage=Stage.USEFULNESS)
    UsefulnessRating.objects.filter(participant=people[2]).delete()
    people.append(participation.enrol(lab, uuid.uuid4()))
    data = dataset.load(many_threats, dataset.Filters(include_simulated=True, include_incomplete=True))
    columns = data.participants
    assert columns.ids.tolist() == [person.pk for person in people]
    assert columns.arm_ids.tolist() == [person.arm_id for person in people]
    for i, person in enumerate(people):
        answers = Answer.objects.filter(participant=person).select_related("threat")
        outcomes = Counter(outcome(a.threat.is_real, a.choice == Choice.APPLICABLE) for a in answers)
        expected = score(**{key: outcomes[key] for key in ("tp", "fn", "fp", "tn")})
        assert all(same(columns.metric(key)[i], getattr(expected, key)) for key in SCORES), person
        given = dict(UsefulnessRating.objects.filter(participant=person).values_list("source", "value"))
        assert all(same(columns.rating(s.key)[i], given.get(s.key)) for s in data.sources), person
        assert math.isnan(columns.mean_confidence[i])  # not asked
    for arm in data.arms:
        for threat in data.threats:
            answers = Answer.objects.filter(participant__session=lab, participant__arm=arm, threat=threat)
            marked = answers.filter(choice=Choice.APPLICABLE).count()
            assert data.selections[(arm.pk, threat.pk)] == (marked, answers.count()), (arm, threat)
    assert sum(len(data.in_arm(arm)) for arm in data.arms) == len(people)


@pytest.mark.django_db
def test_ratings_of_more_sources_than_one_integer_packs_come_back_per_source(lab):
    simulate(lab, 3, profile="random", seed=5)
    people = list(Participant.objects.filter(session=lab).order_by("id"))
    keys = [f"source_{k}" for k in range(23)]  # three packs of ten, three bits each
    given = {(person.pk, key): (k + i) % 5 + 1 for i, person in enumerate(people) for k, key in enumerate(keys)}
    del given[(people[1].pk, keys[12])]  # one rating missing in the second pack
    UsefulnessRating.objects.filter(participant__in=people).delete()
    UsefulnessRating.objects.bulk_create(
        UsefulnessRating(participant_id=pk, source=key, value=value) for (pk, key), value in given.items()
    )
    chosen = dataset.participants(lab.experiment, dataset.Filters(include_simulated=True))
    ids = np.array([person.pk for person in people])
    ratings = dataset._ratings(chosen, ids, ["unrated", *keys])
    assert np.isnan(ratings[:, 0]).all()
    for i, person in enumerate(people):
        assert all(same(ratings[i, 1 + k], given.get((person.pk, key))) for k, key in enumerate(keys)), person
