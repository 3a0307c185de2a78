"""What every participant of an experiment is shown, read once per process instead of once per page.

A lab's five hundred students read the same scenario, sections, diagrams, threats and questionnaires; reading and
rendering them on every request was most of a page's cost. A snapshot is keyed by the experiment's
``content_key``, which changes whenever any of that content is saved or deleted (experiment/signals.py), and the
participant's own query reads the key, so a worker never shows content older than the request's.

Snapshots are shared by the threads of a worker: nothing may modify the instances they hold.
"""

import uuid
from dataclasses import dataclass

from experiment.memo import WorkerMemo
from experiment.models import STAGE_ORDER, Arm, Experiment, Placement, Questionnaire, QuestionnaireItem, Stage
from threats.models import Diagram, MaterialSection, Scenario, Threat


@dataclass(frozen=True)
class Content:
    key: tuple[int, uuid.UUID]
    experiment: Experiment
    scenario: Scenario
    sections: list[MaterialSection]
    arms: dict[int, Arm]
    # Per arm id, the diagrams it shows, in order.
    diagrams: dict[int, list[Diagram]]
    threats: dict[int, Threat]
    # Per placement, the questionnaire and its items in order.
    questionnaires: dict[str, tuple[Questionnaire, list[QuestionnaireItem]]]
    stages: list[Stage]

    def shown_diagrams(self, arm_id: int | None) -> list[Diagram]:
        return self.diagrams.get(arm_id, [])

    def threats_in_order(self, threat_ids: list[int]) -> list[Threat]:
        return [self.threats[threat_id] for threat_id in threat_ids]

    def next_stage(self, current: Stage) -> Stage:
        return self.stages[self.stages.index(current) + 1]


def _read(experiment: Experiment, key: tuple[int, uuid.UUID]) -> Content:
    scenario = Scenario.objects.get(pk=experiment.scenario_id)
    # Templates reach the scenario through the experiment; set here, before the snapshot is shared.
    experiment.scenario = scenario
    arms = list(Arm.objects.filter(experiment=experiment).order_by("position").prefetch_related("diagram_links"))
    diagrams_by_id = Diagram.objects.in_bulk([link.diagram_id for arm in arms for link in arm.diagram_links.all()])
    questionnaires = {
        q.placement: (q, list(q.items.order_by("position")))
        for q in Questionnaire.objects.filter(experiment=experiment).prefetch_related("items")
    }
    stages = [
        stage
        for stage in STAGE_ORDER
        if (stage != Stage.ENTRY or Placement.ENTRY in questionnaires)
        and (stage != Stage.EXIT or Placement.EXIT in questionnaires)
    ]
    return Content(
        key=key,
        experiment=experiment,
        scenario=scenario,
        sections=list(scenario.sections.order_by("position")),
        arms={arm.pk: arm for arm in arms},
        diagrams={
            # ArmDiagram's default ordering is by position, which the prefetch keeps.
            arm.pk: [diagrams_by_id[link.diagram_id] for link in arm.diagram_links.all()]
            for arm in arms
        },
        threats={threat.pk: threat for threat in scenario.threats.order_by("position")},
        questionnaires=questionnaires,
        stages=stages,
    )


# Experiments whose content a worker keeps; a server runs a handful at once, each a few hundred kilobytes.
_snapshots: WorkerMemo[Content] = WorkerMemo(kept=32)


def content_of(experiment: Experiment) -> Content:
    """The experiment's content as of its ``content_key``; read from the database on a worker's first request."""
    return content_for(experiment.pk, experiment.content_key)


def content_for(experiment_id: int, content_key: uuid.UUID) -> Content:
    key = (experiment_id, content_key)
    return _snapshots.get(key, lambda: _read(Experiment.objects.get(pk=experiment_id), key))


def renew_key(experiment_ids) -> None:
    """Give these experiments a new content key: every worker's next page then renders their content afresh.

    Call it wherever what participants are shown is saved or deleted (definition load, the admin). The key lives
    in the experiment's row, which every participant page reads, so the edit reaches every worker and replica.
    """
    Experiment.objects.filter(pk__in=list(experiment_ids)).update(content_key=uuid.uuid4())
