"""Completion codes: derived from the participant's code with SECRET_KEY, stored nowhere, checked by deriving them
again for the session's finished participants, and accepted however a student types them."""

import re

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from experiment.codes import completion_code_for
from experiment.models import LabSession, Participant, Stage
from experiment.services import participation, sessions
from experiment.sources import sources_for

VERDICT = re.compile(r"<td><code>([^<]*)</code></td><td>(valid|not from this session|handed in twice)</td>")


def finished(participant: Participant) -> str:
    """Take a participant through the lab with the services; returns the completion code the thank-you page shows."""
    participation.start_threats(participant)
    answers = [participation.ThreatAnswer(t, i, "applicable") for i, t in enumerate(participant.threat_order, 1)]
    assert participation.submit_answers(participant, answers)
    ratings = {source.key: 3 for source in sources_for(participant.arm.shown_diagrams())}
    code = participation.submit_usefulness(participant, ratings, "")
    assert code and participant.stage == Stage.DONE
    return code


def check(client: Client, session: LabSession, typed: str) -> list[tuple[str, str]]:
    response = client.post(reverse("admin:experiment_labsession_codes", args=[session.pk]), {"codes": typed})
    assert response.status_code == 200
    return VERDICT.findall(response.content.decode())


@pytest.fixture
def staff(instructor) -> Client:
    client = Client()
    client.force_login(instructor)
    return client


@override_settings(SECRET_KEY="a-fixed-key-for-this-test-only-0123456789abcdefghij")
def test_a_code_is_derived_as_it_always_was_so_codes_already_handed_out_stay_valid():
    # Worked out with this key before the stored codes were dropped (migration 0009).
    assert completion_code_for("3f2504e0-4f89-41d3-9a0c-0305e82c3301") == "GUECC-MVTEH"


@pytest.mark.django_db
def test_no_table_holds_a_code_after_students_finish_in_a_known_order(lab, make_participant):
    participants = [make_participant() for _ in range(5)]
    # Finished in the reverse of the order they joined in: a stored code would follow this order.
    codes = [finished(p) for p in reversed(participants)]
    assert len(set(codes)) == 5
    tables = connection.introspection.table_names()
    assert not [name for name in tables if "completion" in name]
    bare = {code.replace("-", "") for code in codes}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 names from introspection
            for row in cursor.fetchall():
                text = " ".join(str(value) for value in row).upper()
                held = [code for code in codes if code in text] + [code for code in bare if code in text]
                assert held == [], f"{table} holds {held}"
    assert sorted(sessions.issued_codes(lab)) == sorted(codes)


@pytest.mark.django_db
def test_typed_codes_are_valid_only_for_the_sessions_finished_participants(staff, lab, experiment, make_participant):
    first, second = finished(make_participant()), finished(make_participant())
    still_answering = make_participant()
    participation.start_threats(still_answering)
    other_lab = sessions.create_session(experiment, open_now=True)
    elsewhere = finished(make_participant(other_lab))
    typed = "\n".join(
        [first, second, completion_code_for(str(still_answering.code)), elsewhere, "AAAAA-BBBBB", "not a code"]
    )
    assert check(staff, lab, typed) == [
        (first, "valid"),
        (second, "valid"),
        (completion_code_for(str(still_answering.code)), "not from this session"),
        (elsewhere, "not from this session"),
        ("AAAAA-BBBBB", "not from this session"),
        ("NOT A CODE", "not from this session"),
    ]
    assert check(staff, other_lab, f"{elsewhere}\n{first}") == [(elsewhere, "valid"), (first, "not from this session")]


@pytest.mark.django_db
def test_a_code_is_accepted_without_its_dash_in_any_case_and_with_spaces_around_it(staff, lab, make_participant):
    code = finished(make_participant())
    other = finished(make_participant())
    bare = code.replace("-", "")
    typed = f"  {bare.lower()}  \n\n{other.lower()}\n {other[:3]} {other[3:]} \n{code}\n"
    assert check(staff, lab, typed) == [
        (code, "valid"),
        (other, "valid"),
        (other, "handed in twice"),
        (code, "handed in twice"),
    ]


@pytest.mark.django_db
def test_a_rehearsal_bots_code_counts_as_issued_until_the_rehearsal_is_reset(staff, lab, make_participant):
    bot_code = finished(make_participant(is_simulated=True))
    page = staff.get(reverse("admin:experiment_labsession_codes", args=[lab.pk])).content.decode()
    assert "This session issued 1 completion code(s)" in page
    assert check(staff, lab, bot_code) == [(bot_code, "valid")]
    sessions.reset_rehearsal(lab)
    assert check(staff, lab, bot_code) == [(bot_code, "not from this session")]


@pytest.mark.django_db
def test_the_issued_count_is_the_number_of_finished_participants(staff, lab, make_participant):
    for _ in range(3):
        finished(make_participant())
    participation.start_threats(make_participant())
    page = staff.get(reverse("admin:experiment_labsession_codes", args=[lab.pk])).content.decode()
    assert "This session issued 3 completion code(s)" in page
    assert sessions.session_data(lab).completion_codes == 3


@pytest.mark.django_db
def test_deleting_a_sessions_data_ends_its_codes(researcher, lab, make_participant):
    code = finished(make_participant())
    client = Client()
    client.force_login(researcher)
    delete_url = reverse("admin:experiment_labsession_delete_data", args=[lab.pk])
    assert "1 completion code(s)" in client.get(delete_url).content.decode()
    response = client.post(delete_url, {"confirm": lab.join_code}, follow=True)
    assert b"1 completion codes" in response.content
    assert check(client, lab, code) == [(code, "not from this session")]


@pytest.mark.django_db
def test_checking_codes_takes_the_same_queries_for_1_or_20_finished_participants(staff, lab, make_participant):
    counts = []
    for n in (1, 19):
        for _ in range(n):
            finished(make_participant())
        with CaptureQueriesContext(connection) as queries:
            assert len(check(staff, lab, "AAAAA-BBBBB")) == 1
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_the_code_check_refuses_other_methods_and_unknown_sessions(staff, lab):
    codes_url = reverse("admin:experiment_labsession_codes", args=[lab.pk])
    assert staff.put(codes_url).status_code == 405
    assert staff.get(reverse("admin:experiment_labsession_codes", args=[lab.pk + 1000])).status_code == 404
