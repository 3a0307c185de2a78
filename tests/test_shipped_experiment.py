"""The shipped replication: faithful to the original study's design and answer key, with accessible diagrams."""

import re
import xml.etree.ElementTree as ET
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from experiment.models import Experiment
from threats.models import Stride

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# From ../shared/reference/original-study/README.md: ID, STRIDE, real.
ORIGINAL_KEY = [
    ("LEAKED-PRIVILEGE-REMOTE", Stride.ELEVATION_OF_PRIVILEGE, True),
    ("SPOOFING-AUTH-WORKLOAD", Stride.SPOOFING, True),
    ("DOS-WORKERNODE", Stride.DENIAL_OF_SERVICE, True),
    ("ELEVATION-PRIVILEGE-MALICIOUS-IMG", Stride.ELEVATION_OF_PRIVILEGE, True),
    ("EXPLOIT-PRIVILEGED-CONTAINER", Stride.ELEVATION_OF_PRIVILEGE, True),
    ("PORT-JAMMING-NETWORK-POLICIES", Stride.DENIAL_OF_SERVICE, False),
    ("LEAKED-SECRET-DOCKERFILE", Stride.INFORMATION_DISCLOSURE, False),
    ("CHAIN-ATTACK-MALICIOUS-INPUTS", Stride.ELEVATION_OF_PRIVILEGE, False),
    ("UNAUTH-CONFIG-TAMPERING", Stride.ELEVATION_OF_PRIVILEGE, False),
    ("SPOOFING-LAYER-3", Stride.SPOOFING, False),
]


@pytest.fixture
def replication(db) -> Experiment:
    call_command("load_experiment", str(FIXTURES / "kubernetes-pod-dfd.json"), stdout=StringIO())
    return Experiment.objects.get(slug="kubernetes-pod-dfd")


def test_the_threats_and_key_are_the_originals(replication):
    threats = list(replication.scenario.threats.order_by("position").values_list("ref", "stride", "is_real"))
    assert threats == ORIGINAL_KEY


def test_every_threat_has_its_parts_a_rationale_and_a_source(replication):
    for threat in replication.scenario.threats.all():
        assert threat.description and threat.assumptions and threat.affected_components
        assert threat.rationale
        assert "winniebahati/SoK-Human-Factors" in threat.source and "f098ac7" in threat.source


def test_the_dfd_arm_sees_the_dfd_and_the_control_arm_does_not(replication):
    arms = {arm.slug: [d.slug for d in arm.shown_diagrams()] for arm in replication.arms.all()}
    assert arms == {"dfd": ["sequence", "dfd"], "control": ["sequence"]}
    assert replication.hypothesis == "greater"


def test_the_dfd_text_alternative_lists_all_sixteen_flows(replication):
    dfd = replication.scenario.diagrams.get(slug="dfd")
    for flow in range(1, 17):
        assert re.search(rf"(^|\D){flow}\D", dfd.text_alternative), flow
    for element in ("User", "API Server", "etcd", "Kubelet", "Docker", "Image Cache", "Container 1"):
        assert element in dfd.text_alternative


@pytest.mark.parametrize("name", ["dfd.svg", "sequence.svg"])
def test_the_diagrams_are_safe_accessible_svg(name):
    text = (FIXTURES / "kubernetes-pod" / name).read_text()
    root = ET.fromstring(text)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg" and root.get("role") == "img" and root.get("viewBox")
    assert root[0].tag == f"{ns}title" and root[1].tag == f"{ns}desc"
    for element in root.iter():
        assert element.tag not in (f"{ns}script", f"{ns}foreignObject", f"{ns}style")
        assert not any(attr.startswith("on") or attr == "style" for attr in element.attrib)
        assert not any("href" in attr and not value.startswith("#") for attr, value in element.attrib.items())


def test_the_replication_can_be_taken_by_bots_in_both_arms(replication):
    from experiment import services
    from experiment.models import Participant
    from experiment.rehearsal import simulate

    session = services.create_session(replication, open_now=True)
    simulate(session, 8, profile="perfect", seed=1)
    assert set(Participant.objects.values_list("arm__slug", flat=True)) == {"dfd", "control"}
    assert all(p.answers.count() == 10 for p in Participant.objects.all())
