import uuid

import pytest
from django.db import connection

from experiment.models import (
    Arm,
    ArmDiagram,
    ConsentStatement,
    Experiment,
    Hypothesis,
    InformationSheet,
    LabSession,
    SessionStatus,
)
from experiment.services import participation, sessions
from threats.models import Diagram, DiagramKind, MaterialSection, Scenario, Stride, Threat

SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>t</title><rect width="5" height="5"/></svg>'


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def experiment(db) -> Experiment:
    """A small two-arm experiment: DFD arm sees sequence + DFD, control sees the sequence diagram only."""
    scenario = Scenario.objects.create(slug="mini", title="Mini scenario", task_html="<p>Mark the real threats.</p>")
    MaterialSection.objects.create(scenario=scenario, position=1, title="The system", body_html="<p>Text.</p>")
    sequence = Diagram.objects.create(
        scenario=scenario,
        slug="sequence",
        kind=DiagramKind.SEQUENCE,
        title="Sequence diagram",
        svg=SVG,
        text_alternative="Lifelines: A, B.",
    )
    dfd = Diagram.objects.create(
        scenario=scenario,
        slug="dfd",
        kind=DiagramKind.DFD,
        title="Data flow diagram",
        svg=SVG,
        text_alternative="Flows: 1 A to B.",
    )
    for i, (ref, real) in enumerate([("REAL-1", True), ("REAL-2", True), ("FAKE-1", False), ("FAKE-2", False)], 1):
        Threat.objects.create(
            scenario=scenario,
            ref=ref,
            position=i,
            title=f"The {ref.lower()} threat",
            description=f"Description of {ref}",
            stride=Stride.SPOOFING,
            assumptions=["an assumption"],
            affected_components=["A"],
            is_real=real,
            rationale=f"SECRET-RATIONALE-{ref}",
            source="test",
        )
    experiment = Experiment.objects.create(
        slug="mini-exp",
        title="Mini experiment",
        participant_title="Mini experiment",
        scenario=scenario,
        hypothesis=Hypothesis.GREATER,
        debrief_html="<p>DEBRIEF: this study asks whether a DFD helps; FAKE-1 and FAKE-2 were made up.</p>",
    )
    add_sheet(experiment)
    dfd_arm = Arm.objects.create(experiment=experiment, slug="dfd", name="DFD", position=1)
    control = Arm.objects.create(experiment=experiment, slug="control", name="Control", position=2)
    ArmDiagram.objects.create(arm=dfd_arm, diagram=sequence, position=1)
    ArmDiagram.objects.create(arm=dfd_arm, diagram=dfd, position=2)
    ArmDiagram.objects.create(arm=control, diagram=sequence, position=1)
    return experiment


def add_sheet(experiment: Experiment) -> InformationSheet:
    """A small information sheet: one required statement and one optional."""
    sheet = InformationSheet.objects.create(
        experiment=experiment,
        version="test-1",
        researchers="Dr. Test",
        institution="Test University",
        contact="test@example.edu",
        ethics_approval="ERB-TEST-1",
        duration="About 30 minutes.",
        voluntariness="Voluntary; stop at any time.",
        data_use="Anonymous answers, kept ten years.",
    )
    ConsentStatement.objects.create(sheet=sheet, key="take_part", position=1, text="I take part.", required=True)
    ConsentStatement.objects.create(sheet=sheet, key="open_data", position=2, text="Publish them.", required=False)
    return sheet


@pytest.fixture
def lab(experiment) -> LabSession:
    return sessions.create_session(experiment, label="Test lab", open_now=True)


@pytest.fixture
def make_participant(lab):
    def make(session: LabSession | None = None, **kwargs):
        return participation.enrol(session or lab, uuid.uuid4(), **kwargs)

    return make


@pytest.fixture
def closed_lab(experiment) -> LabSession:
    session = sessions.create_session(experiment, label="Closed lab")
    session.status = SessionStatus.CLOSED
    session.save()
    return session


def staff_user(username: str, group: str | None = None, superuser: bool = False):
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user(username, password="pw-" + username, is_staff=True, is_superuser=superuser)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def instructor(db):
    return staff_user("instructor", "Instructor")


@pytest.fixture
def researcher(db):
    return staff_user("researcher", "Researcher")


@pytest.fixture
def plain_staff(db):
    return staff_user("staff")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Join-guess counters live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
