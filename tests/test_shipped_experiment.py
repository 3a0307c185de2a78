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


def assert_safe_accessible_svg(path: Path) -> None:
    root = ET.fromstring(path.read_text())
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg" and root.get("role") == "img" and root.get("viewBox"), path
    assert root[0].tag == f"{ns}title" and root[1].tag == f"{ns}desc", path
    for element in root.iter():
        assert element.tag not in (f"{ns}script", f"{ns}foreignObject", f"{ns}style"), path
        assert not any(attr.startswith("on") or attr == "style" for attr in element.attrib), path
        assert not any("href" in attr and not value.startswith("#") for attr, value in element.attrib.items()), path


@pytest.mark.parametrize("folder", ["kubernetes-pod", "github-push", "kubernetes-large"])
def test_every_shipped_diagram_is_safe_accessible_svg(folder):
    paths = sorted((FIXTURES / folder).glob("*.svg"))
    assert [p.name for p in paths] == ["dfd.svg", "sequence.svg"]
    for path in paths:
        assert_safe_accessible_svg(path)


def test_the_replication_can_be_taken_by_bots_in_both_arms(replication):
    from experiment.models import Participant
    from experiment.rehearsal import simulate
    from experiment.services import sessions

    session = sessions.create_session(replication, open_now=True)
    simulate(session, 8, profile="perfect", seed=1)
    assert set(Participant.objects.values_list("arm__slug", flat=True)) == {"dfd", "control"}
    assert all(p.answers.count() == 10 for p in Participant.objects.all())


SHIPPED = {
    "kubernetes-pod-dfd.json": ("kubernetes-pod-dfd", 10, 2),
    "kubernetes-pod-three-arms.json": ("kubernetes-pod-three-arms", 10, 3),
    "github-push.json": ("github-push-dfd", 10, 2),
    "kubernetes-large.json": ("kubernetes-large-dfd", 20, 2),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_shipped_experiment_loads_and_bots_finish_it(name):
    from experiment.models import Participant, Stage
    from experiment.rehearsal import simulate
    from experiment.services import sessions

    slug, n_threats, n_arms = SHIPPED[name]
    call_command("load_experiment", str(FIXTURES / name), stdout=StringIO())
    experiment = Experiment.objects.get(slug=slug)
    threats = list(experiment.scenario.threats.values_list("is_real", flat=True))
    assert len(threats) == n_threats and sum(threats) == n_threats // 2
    assert experiment.arms.count() == n_arms
    for threat in experiment.scenario.threats.all():
        assert threat.rationale and threat.source
    session = sessions.create_session(experiment, open_now=True)
    simulate(session, 3 * n_arms, profile="perfect", seed=2)
    done = Participant.objects.filter(session=session, stage=Stage.DONE)
    assert done.count() == 3 * n_arms
    assert all(p.answers.count() == n_threats for p in done)


@pytest.mark.django_db
def test_the_three_arm_experiment_reports_kruskal_wallis_with_pairwise_tests():
    from analysis import dataset, report
    from experiment.rehearsal import simulate
    from experiment.services import sessions

    call_command("load_experiment", str(FIXTURES / "kubernetes-pod-three-arms.json"), stdout=StringIO())
    experiment = Experiment.objects.get(slug="kubernetes-pod-three-arms")
    assert {arm.slug: [d.slug for d in arm.shown_diagrams()] for arm in experiment.arms.all()} == {
        "text-only": [],
        "sequence": ["sequence"],
        "dfd": ["dfd"],
    }
    session = sessions.create_session(experiment, open_now=True)
    simulate(session, 18, profile="diagram_helps", seed=3)
    results = report.build(dataset.load(experiment, dataset.Filters(include_simulated=True)))
    tp = next(m for m in results["metrics"] if m["key"] == "tp")
    assert tp["kruskal"]["apa"].startswith("Kruskal-Wallis H(2) =")
    assert len(tp["dunn"]["pairs"]) == 3 and "Holm-adjusted" in tp["dunn"]["apa"]
    assert "p_holm" in tp["kruskal"]
