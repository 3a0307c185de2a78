"""After a run: is everything the students sent stored exactly once, and nothing else?

Reads the bench database with plain SQL and compares it with what each simulated student sent and saw.
"""

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from bench.driver import Student


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _rows(conn, sql: str, *params) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def run_checks(conn, join_code: str, students: list[Student], completion_code: Callable[[str], str]) -> list[Check]:
    """The checks of a run; ``completion_code`` derives a participant's code (as the server does, with its key)."""
    (session_id,) = _rows(conn, "SELECT id FROM experiment_labsession WHERE join_code = %s", join_code)[0]
    checks: list[Check] = []

    def check(name: str, ok: bool, detail: str) -> None:
        checks.append(Check(name, bool(ok), detail))

    n = len(students)
    finished = [s for s in students if s.finished]
    failed = [s for s in students if not s.finished]
    check(
        "every student finished",
        not failed,
        f"{len(finished)}/{n} reached the thank-you page"
        + (f"; first failure: student {failed[0].index}: {failed[0].failure}" if failed else ""),
    )

    participants = _rows(
        conn,
        "SELECT code::text, id, arm_id, stage, threat_order, comment, entry_token::text FROM experiment_participant"
        " WHERE session_id = %s",
        session_id,
    )
    by_code = {row[0]: row for row in participants}
    sent_codes = [s.participant for s in students if s.participant]
    doubled_codes = [code for code, k in Counter(sent_codes).items() if k > 1]
    check("participants = students", len(participants) == n, f"{len(participants)} participants for {n} students")
    check(
        "no duplicate participant",
        not doubled_codes and len({row[6] for row in participants}) == len(participants),
        f"{len(doubled_codes)} participant codes shared by two students",
    )
    unknown = set(by_code) - set(sent_codes)
    missing = set(sent_codes) - set(by_code)
    check(
        "every participant is a student's",
        not unknown and not missing,
        f"{len(unknown)} participants no student made, {len(missing)} students without their participant",
    )
    not_done = [row[0] for row in participants if row[3] != "done"]
    check("everyone at done", not not_done, f"{len(not_done)} participants not at done")

    threats = _rows(
        conn,
        "SELECT count(*) FROM threats_threat t JOIN experiment_experiment e ON e.scenario_id = t.scenario_id"
        " JOIN experiment_labsession s ON s.experiment_id = e.id WHERE s.id = %s",
        session_id,
    )[0][0]
    answers = _rows(
        conn,
        "SELECT p.code::text, a.threat_id, a.position, a.choice FROM experiment_answer a"
        " JOIN experiment_participant p ON p.id = a.participant_id WHERE p.session_id = %s",
        session_id,
    )
    check(
        "answers = students x threats",
        len(answers) == n * threats,
        f"{len(answers)} answers for {n} students x {threats} threats",
    )
    stored: dict[str, dict[int, tuple[int, str]]] = {}
    doubled_answers = 0
    for code, threat_id, position, choice in answers:
        mine = stored.setdefault(code, {})
        doubled_answers += threat_id in mine
        mine[threat_id] = (position, choice)
    check("every answer stored once", doubled_answers == 0, f"{doubled_answers} answers stored twice")
    wrong = 0
    for student in students:
        mine = stored.get(student.participant, {})
        expected = {tid: (pos, student.answers[tid]) for pos, tid in enumerate(student.order, 1)}
        wrong += mine != expected
    check("answers = what each student sent, in the order shown", wrong == 0, f"{wrong} students differ")
    order_wrong = sum(
        1 for s in students if s.participant in by_code and _json(by_code[s.participant][4]) != s.order and s.order
    )
    check("threat order = the order each student saw", order_wrong == 0, f"{order_wrong} students differ")

    ratings = _rows(
        conn,
        "SELECT p.code::text, r.source, r.value FROM experiment_usefulnessrating r"
        " JOIN experiment_participant p ON p.id = r.participant_id WHERE p.session_id = %s",
        session_id,
    )
    rated: dict[str, dict[str, int]] = {}
    doubled_ratings = 0
    for code, source, value in ratings:
        mine = rated.setdefault(code, {})
        doubled_ratings += source in mine
        mine[source] = value
    wrong_ratings = sum(1 for s in students if rated.get(s.participant, {}) != s.ratings or not s.ratings)
    check(
        "ratings complete, once, as sent",
        doubled_ratings == 0 and wrong_ratings == 0,
        f"{len(ratings)} ratings; {wrong_ratings} students' ratings differ from what they sent; "
        f"{doubled_ratings} stored twice",
    )
    comments_wrong = sum(1 for s in students if s.participant in by_code and by_code[s.participant][5] != s.comment)
    check("comments as sent", comments_wrong == 0, f"{comments_wrong} differ")

    # No completion code is stored: each finished participant's is derived from its code with the server's key.
    finished = {code for code, row in by_code.items() if row[3] == "done"}
    shown = [s for s in students if s.completion_code]
    wrong = sum(
        1 for s in shown if s.participant not in finished or completion_code(s.participant) != s.completion_code
    )
    check(
        "every student saw the completion code derived for them",
        len(shown) == n and wrong == 0 and len(finished) == len(participants),
        f"{len(shown)}/{n} students were shown a code; {wrong} not the one derived for them; "
        f"{len(finished)} of {len(participants)} participants finished",
    )

    check(*_diagrams(conn, session_id, students))
    if _rows(conn, "SELECT to_regclass('experiment_itemresponse') IS NOT NULL")[0][0]:
        check(*_questionnaires(conn, session_id, students))
    check(*_blocks(conn, session_id))
    return checks


def _questionnaires(conn, session_id: int, students: list[Student]) -> tuple[str, bool, str]:
    """Entry and exit questionnaire answers: each field a student sent is stored once, with its value."""
    stored: dict[str, dict[str, str]] = {}
    doubled = 0
    for code, key, row, value in _rows(
        conn,
        "SELECT p.code::text, i.key, r.row, r.value FROM experiment_itemresponse r"
        " JOIN experiment_questionnaireitem i ON i.id = r.item_id"
        " JOIN experiment_participant p ON p.id = r.participant_id WHERE p.session_id = %s",
        session_id,
    ):
        mine = stored.setdefault(code, {})
        name = f"{key}__{row}" if row else key
        doubled += name in mine
        mine[name] = value
    wrong = 0
    for student in students:
        sent = {k: v for form in student.other_forms.values() for k, v in form.items() if v != ""}
        wrong += stored.get(student.participant, {}) != sent
    total = sum(len(v) for v in stored.values())
    return (
        "questionnaire answers once, as sent",
        wrong == 0 and doubled == 0,
        f"{total} answers; {wrong} students differ from what they sent; {doubled} stored twice",
    )


def _diagrams(conn, session_id: int, students: list[Student]) -> tuple[str, bool, str]:
    """Each student's browser loaded the diagrams of its arm, each once, and no other."""
    of_arm: dict[int, set[str]] = {}
    for arm_id, slug in _rows(
        conn,
        "SELECT ad.arm_id, d.slug FROM experiment_armdiagram ad JOIN threats_diagram d ON d.id = ad.diagram_id"
        " JOIN experiment_arm a ON a.id = ad.arm_id JOIN experiment_labsession s ON s.experiment_id = a.experiment_id"
        " WHERE s.id = %s",
        session_id,
    ):
        of_arm.setdefault(arm_id, set()).add(slug)
    arm_of = dict(
        _rows(conn, "SELECT code::text, arm_id FROM experiment_participant WHERE session_id = %s", session_id)
    )
    wrong = [
        s.index
        for s in students
        if len(s.diagrams) != len(set(s.diagrams)) or set(s.diagrams) != of_arm.get(arm_of.get(s.participant), set())
    ]
    loaded = sum(len(s.diagrams) for s in students)
    return (
        "every student loaded the diagrams of its arm",
        not wrong,
        f"{loaded} diagrams loaded; {len(wrong)} students loaded other diagrams than their arm's",
    )


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _blocks(conn, session_id: int) -> tuple[str, bool, str]:
    blocks = _rows(
        conn,
        "SELECT id, number, arm_sequence, stratum FROM experiment_allocationblock WHERE session_id = %s"
        " ORDER BY stratum, number",
        session_id,
    )
    taken: dict[int, list[tuple[int, int]]] = {}
    for block_id, position, arm_id in _rows(
        conn,
        "SELECT block_id, block_position, arm_id FROM experiment_participant WHERE session_id = %s"
        " ORDER BY block_id, block_position",
        session_id,
    ):
        taken.setdefault(block_id, []).append((position, arm_id))
    problems = []
    complete = 0
    last_of_stratum = {stratum: block_id for block_id, _number, _sequence, stratum in blocks}
    for block_id, number, sequence, stratum in blocks:
        sequence = _json(sequence)
        slots = taken.get(block_id, [])
        if [p for p, _arm in slots] != list(range(len(slots))):
            problems.append(f"block {number}: slots not filled in order")
        if [arm for _p, arm in slots] != sequence[: len(slots)]:
            problems.append(f"block {number}: arms differ from its drawn sequence")
        if len(slots) == len(sequence):
            complete += 1
            if len(set(Counter(arm for _p, arm in slots).values())) != 1:
                problems.append(f"block {number}: complete but unbalanced")
        elif last_of_stratum[stratum] != block_id:
            problems.append(f"block {number} ({stratum or 'no stratum'}): left part-filled, a later block opened")
    strata = len(last_of_stratum)
    detail = (
        f"{len(blocks)} blocks in {strata} strata, {complete} complete and balanced, at most one open per stratum"
        if not problems
        else "; ".join(problems[:5])
    )
    return "every complete allocation block balanced", not problems, detail
