"""A class joining and submitting at the same instant, on PostgreSQL with real row locks."""

import threading
import uuid
from collections import Counter

import pytest
from django.db import OperationalError, connection, connections, transaction

from experiment.models import AllocationBlock, Answer, Choice, LabSession, Participant
from experiment.services import participation, sessions
from tests.conftest import on_postgres

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite serialises every writer, so it cannot show a race",
    ),
]


def run_at_once(n: int, work) -> list:
    """Run ``work(i)`` in n threads released together; return results (or exceptions) by index."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:  # reported by the test, not lost in a thread
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def assert_blocks_balanced(session) -> None:
    for block in AllocationBlock.objects.filter(session=session):
        taken = list(block.participants.order_by("block_position").values_list("block_position", "arm_id"))
        assert [pos for pos, _ in taken] == list(range(len(taken))), "slots are filled in order, none skipped"
        assert [arm for _, arm in taken] == block.arm_sequence[: len(taken)]
        if len(taken) == block.size:
            assert len(set(Counter(arm for _, arm in taken).values())) == 1, "a full block is balanced"


def test_fifty_students_joining_at_the_same_instant(lab):
    assert on_postgres()
    tokens = [uuid.uuid4() for _ in range(50)]
    results = run_at_once(50, lambda i: participation.enrol(lab, tokens[i]).pk)
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert Participant.objects.filter(session=lab).count() == 50
    assert len(set(results)) == 50
    assert_blocks_balanced(lab)
    full_blocks = [b for b in AllocationBlock.objects.filter(session=lab) if b.participants.count() == b.size]
    assert sum(b.size for b in full_blocks) >= 50 - 4, "only the last block may be partly filled"


def test_the_same_consent_posted_fifty_times_at_once_makes_one_participant(lab):
    token = uuid.uuid4()
    results = run_at_once(50, lambda i: participation.enrol(lab, token).pk)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert len(set(results)) == 1
    assert Participant.objects.count() == 1


def test_capacity_holds_when_a_crowd_arrives_together(lab):
    lab.capacity = 10
    lab.save()
    results = run_at_once(30, lambda i: participation.enrol(lab, uuid.uuid4()).pk)
    admitted = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, participation.AdmissionRefused)]
    assert len(admitted) == 10
    assert len(refused) == 20
    assert Participant.objects.count() == 10


def test_a_double_submit_from_two_tabs_stores_the_answers_once(lab):
    participant = participation.enrol(lab, uuid.uuid4())
    participation.start_threats(participant)
    order = participant.threat_order

    def submit(i: int) -> bool:
        choice = Choice.APPLICABLE if i % 2 else Choice.NOT_APPLICABLE
        me = Participant.objects.get(pk=participant.pk)
        return participation.submit_answers(
            me, [participation.ThreatAnswer(t, p, choice) for p, t in enumerate(order, 1)]
        )

    results = run_at_once(8, submit)
    assert sorted(results) == [False] * 7 + [True]
    answers = Answer.objects.filter(participant=participant)
    assert answers.count() == len(order)
    assert answers.values("choice").distinct().count() == 1


def _stratified_lab():
    """The Kubernetes experiment (its entry questionnaire picks the stratum), an open session, its stratum item."""
    from io import StringIO
    from pathlib import Path

    from django.core.management import call_command

    from experiment.models import Experiment, QuestionnaireItem

    call_command(
        "load_experiment",
        str(Path(__file__).resolve().parent.parent / "fixtures" / "kubernetes-pod-dfd.json"),
        stdout=StringIO(),
    )
    experiment = Experiment.objects.get(slug="kubernetes-pod-dfd")
    session = sessions.create_session(experiment, open_now=True)
    return session, QuestionnaireItem.objects.get(questionnaire__experiment=experiment, key="k8s_experience")


def test_an_entry_questionnaire_sent_from_two_tabs_at_once_is_stored_and_allocated_once(db):
    from experiment.models import ItemResponse

    session, item = _stratified_lab()
    participant = participation.enrol(session, uuid.uuid4())

    def submit(i: int) -> bool:
        me = Participant.objects.select_related("session__experiment").get(pk=participant.pk)
        return participation.submit_entry(
            me, [participation.Response(item.pk, "", "none" if i % 2 else "professional")]
        )

    results = run_at_once(8, submit)
    assert sorted(results) == [False] * 7 + [True]
    assert ItemResponse.objects.filter(participant=participant).count() == 1
    participant.refresh_from_db()
    assert participant.stage == "training" and participant.arm_id is not None
    assert participant.block.participants.count() == 1, "one slot taken, not one per tab"


def test_forty_entry_questionnaires_submitted_at_once_fill_balanced_blocks_per_stratum(db):
    session, item = _stratified_lab()
    participants = [participation.enrol(session, uuid.uuid4()) for _ in range(40)]

    def submit(i: int) -> bool:
        me = Participant.objects.select_related("session__experiment").get(pk=participants[i].pk)
        level = "none" if i % 3 else "professional"
        return participation.submit_entry(me, [participation.Response(item.pk, "", level)])

    results = run_at_once(40, submit)
    assert results == [True] * 40
    assert Participant.objects.filter(session=session, arm__isnull=True).count() == 0
    assert_blocks_balanced(session)
    strata = Counter(Participant.objects.filter(session=session).values_list("stratum", flat=True))
    assert strata == {"novice": 26, "experienced": 14}


def _holding_the_session_row(session, work):
    """Run ``work()`` while another transaction has updated the session's row (an instructor saving it, a declined
    consent counted) and has not committed yet; this connection waits at most 1 s for a lock."""
    locked, done = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                LabSession.objects.select_for_update(no_key=True).get(pk=session.pk)
                locked.set()
                done.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")
        return work()
    finally:
        done.set()
        holder.join()


def test_a_consent_and_an_allocation_do_not_queue_on_the_session_row(lab, make_participant):
    # The row lock once queued a whole class at consent and at the entry submit (docs/performance.md); only a
    # session with a capacity still admits one at a time.
    participant = _holding_the_session_row(lab, lambda: participation.enrol(lab, uuid.uuid4()))
    assert participant.arm_id is not None


def test_a_session_with_a_capacity_admits_one_at_a_time(lab):
    lab.capacity = 10
    lab.save()
    with pytest.raises(OperationalError, match="lock timeout"):
        _holding_the_session_row(lab, lambda: participation.enrol(lab, uuid.uuid4()))
    assert not Participant.objects.exists()
