"""Every bad answer gets a clear message and stores nothing."""

import pytest

from experiment.forms import rating_field_name, threat_field_name
from experiment.models import Answer, Participant, Stage, UsefulnessRating
from experiment.sources import SCENARIO_TEXT
from tests.conftest import SVG
from tests.helpers import consent_post, threat_answers, url, usefulness_answers
from threats.models import Scenario, Stride, Threat

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_threats(client, lab) -> Participant:
    participant = consent_post(client, lab.join_code)
    client.post(url("training", participant))
    participant.refresh_from_db()
    return participant


@pytest.fixture
def at_usefulness(client, at_threats) -> Participant:
    client.post(url("threats", at_threats), threat_answers(at_threats))
    at_threats.refresh_from_db()
    return at_threats


def assert_refused(response, message: bytes, participant: Participant, stage: Stage) -> None:
    assert response.status_code == 400
    assert message in response.content
    assert b'role="alert"' in response.content
    participant.refresh_from_db()
    assert participant.stage == stage


def test_a_missing_answer_names_the_threat(client, at_threats):
    data = threat_answers(at_threats)
    first = Threat.objects.get(pk=at_threats.threat_order[0])
    del data[threat_field_name(first)]
    response = client.post(url("threats", at_threats), data)
    message = f"Choose applicable or not applicable for threat 1, {first.title}."
    assert_refused(response, message.encode(), at_threats, Stage.THREATS)
    assert Answer.objects.count() == 0


def test_the_other_answers_stay_filled_in_after_an_error(client, at_threats):
    data = threat_answers(at_threats)
    first, second = (Threat.objects.get(pk=i) for i in at_threats.threat_order[:2])
    del data[threat_field_name(first)]
    response = client.post(url("threats", at_threats), data)
    assert response.context["form"][threat_field_name(second)].value() == "applicable"
    assert response.content.decode().count(" checked") == len(at_threats.threat_order) - 1


def test_an_answer_that_is_neither_choice_is_refused(client, at_threats):
    data = threat_answers(at_threats)
    first = Threat.objects.get(pk=at_threats.threat_order[0])
    data[threat_field_name(first)] = "maybe"
    response = client.post(url("threats", at_threats), data)
    message = f"Choose applicable or not applicable for threat 1, {first.title}."
    assert_refused(response, message.encode(), at_threats, Stage.THREATS)
    assert Answer.objects.count() == 0


def test_an_answer_for_an_unknown_threat_is_refused(client, at_threats):
    data = threat_answers(at_threats)
    data["threat_999999"] = "applicable"
    response = client.post(url("threats", at_threats), data)
    assert_refused(response, b"not in your list", at_threats, Stage.THREATS)
    assert Answer.objects.count() == 0


def test_an_answer_for_another_scenarios_threat_is_refused(client, at_threats):
    other = Scenario.objects.create(slug="other", title="Other", task_html="x")
    foreign = Threat.objects.create(
        scenario=other,
        ref="OTHER",
        position=1,
        title="o",
        description="o",
        stride=Stride.TAMPERING,
        is_real=True,
    )
    data = threat_answers(at_threats)
    data[threat_field_name(foreign)] = "applicable"
    response = client.post(url("threats", at_threats), data)
    assert_refused(response, b"not in your list", at_threats, Stage.THREATS)
    assert Answer.objects.count() == 0


def test_a_tampered_order_field_is_refused(client, at_threats):
    data = threat_answers(at_threats)
    data["shown_order"] = ",".join(str(i) for i in reversed(at_threats.threat_order))
    response = client.post(url("threats", at_threats), data)
    assert_refused(response, b"The form was altered", at_threats, Stage.THREATS)
    assert Answer.objects.count() == 0


@pytest.mark.parametrize("value", ["0", "6", "abc", "", "3.5", "-1"])
def test_a_rating_outside_1_to_5_is_refused(client, at_usefulness, value):
    data = usefulness_answers(at_usefulness)
    data[rating_field_name(SCENARIO_TEXT)] = value
    response = client.post(url("usefulness", at_usefulness), data)
    assert_refused(response, b"Rate Scenario description from 1 to 5", at_usefulness, Stage.USEFULNESS)
    assert UsefulnessRating.objects.count() == 0


def test_a_missing_rating_is_refused(client, at_usefulness):
    data = usefulness_answers(at_usefulness)
    del data[rating_field_name(SCENARIO_TEXT)]
    response = client.post(url("usefulness", at_usefulness), data)
    assert_refused(response, b"Rate Scenario description from 1 to 5", at_usefulness, Stage.USEFULNESS)
    assert UsefulnessRating.objects.count() == 0


def test_a_comment_over_2000_characters_is_refused(client, at_usefulness):
    data = usefulness_answers(at_usefulness)
    data["comment"] = "x" * 2001
    response = client.post(url("usefulness", at_usefulness), data)
    assert_refused(response, b"at most 2000 characters", at_usefulness, Stage.USEFULNESS)
    assert UsefulnessRating.objects.count() == 0


def test_a_post_for_a_stage_the_participant_is_not_at_changes_nothing(client, lab):
    participant = consent_post(client, lab.join_code)
    response = client.post(url("threats", participant), threat_answers(participant))
    assert response.status_code == 302
    assert response["Location"] == url("training", participant)
    response = client.post(url("usefulness", participant), usefulness_answers(participant))
    assert response["Location"] == url("training", participant)
    participant.refresh_from_db()
    assert participant.stage == Stage.TRAINING
    assert Answer.objects.count() == 0 and UsefulnessRating.objects.count() == 0


def test_the_control_arm_cannot_fetch_the_dfd(client, lab, make_participant):
    participant = make_participant()
    while participant.arm.slug != "control":
        participant = make_participant()
    assert client.get(f"/p/{participant.code}/diagrams/dfd.svg").status_code == 404
    response = client.get(f"/p/{participant.code}/diagrams/sequence.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response.content.decode() == SVG


@pytest.mark.parametrize(
    "path", ["/join/%00/", "/join/AB%00CD/", "/join/a%22b/", "/join/%0D%0A/", "/join/ABCDEFGHJKMNP/"]
)
def test_a_join_code_that_cannot_exist_is_not_found(client, lab, path):
    response = client.get(path)
    assert response.status_code == 404
    assert Participant.objects.count() == 0


def test_a_join_link_typed_in_lower_case_still_opens_the_consent_page(client, lab):
    response = client.get(f"/join/{lab.join_code.lower()}/")
    assert response.status_code == 200
    assert response.context["session"] == lab


@pytest.mark.parametrize(
    "exposure",
    [
        "[" * 1999,
        "{" * 1999,
        '{"a":' * 300 + "1" + "}" * 300,
        '{"page": {"deeper": 1}}',
        '{"page": ' + "9" * 1990 + "}",
    ],
)
def test_a_deeply_nested_or_huge_exposure_is_refused(client, lab, exposure):
    participant = consent_post(client, lab.join_code)
    response = client.post(url("training", participant), {"exposure": exposure})
    assert_refused(response, b"The form was altered", participant, Stage.TRAINING)
    assert participant.exposure == {}
