"""Drive the student flow through the Django test client, as a browser would."""

import re
from pathlib import Path

from django.test import Client
from django.urls import reverse

from experiment.definition.blinding import pattern_of
from experiment.forms import rating_field_name, threat_field_name
from experiment.models import Arm, Choice, Participant
from experiment.sources import sources_for
from threats.models import Threat


def agreeing(form, **data) -> dict:
    """The consent form's POST: ``data``, with every statement of the page's ``form`` ticked."""
    return {**{field.name: "on" for field, _required in form.statements()}, **data}


def consent_post(client: Client, join_code: str) -> Participant:
    page = client.get(reverse("experiment:consent", args=[join_code]))
    form = page.context["form"]
    token = form["entry_token"].value()
    response = client.post(
        reverse("experiment:consent", args=[join_code]), agreeing(form, entry_token=token, decision="consent")
    )
    assert response.status_code == 302, response.content[:500]
    code = response["Location"].split("/")[2]
    return Participant.objects.get(code=code)


def threat_answers(participant: Participant, choice: str = Choice.APPLICABLE) -> dict:
    data = {"shown_order": ",".join(str(i) for i in participant.threat_order)}
    for threat in Threat.objects.filter(pk__in=participant.threat_order):
        data[threat_field_name(threat)] = choice
    return data


def usefulness_answers(participant: Participant, value: int = 4) -> dict:
    data = {rating_field_name(s): str(value) for s in sources_for(participant.arm.shown_diagrams())}
    data["comment"] = "Clear material."
    return data


def url(name: str, participant: Participant) -> str:
    return reverse(f"experiment:{name}", args=[participant.code])


def lacked_terms(arm: Arm) -> re.Pattern:
    """What finds every term, in every language, of the diagrams of the arm's scenario that the arm does not get."""
    lacked = arm.experiment.scenario.diagrams.exclude(arm_links__arm=arm)
    return pattern_of([term for diagram in lacked for terms in diagram.terms.values() for term in terms])


# The replication's definition, and an answer to its entry questionnaire that every test may send.
REPLICATION_FILE = Path(__file__).resolve().parent.parent / "fixtures" / "kubernetes-pod-dfd.json"
REPLICATION_ENTRY = {
    "k8s_experience": "course",
    "secure_design_experience": "labs",
    "diagram_familiarity__sequence": "4",
    "diagram_familiarity__component": "3",
    "diagram_familiarity__deployment": "2",
}
