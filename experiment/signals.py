"""A new content key for an experiment whenever what its participants are shown changes.

Workers keep rendered content per key (experiment/content.py); a save in one worker must reach the others, so the
key lives in the experiment's row, which every participant page reads anyway. Bulk writes send no signals: the
definition loader only bulk-creates content under a brand-new experiment, whose key is new too.
"""

import uuid

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from experiment.models import Arm, ArmDiagram, Experiment, Questionnaire, QuestionnaireItem
from threats.models import Diagram, MaterialSection, Scenario, Threat

_CONTENT_MODELS = (Scenario, MaterialSection, Diagram, Threat, Arm, ArmDiagram, Questionnaire, QuestionnaireItem)


def _experiments_of(instance):
    if isinstance(instance, Scenario):
        return Experiment.objects.filter(scenario_id=instance.pk)
    if isinstance(instance, MaterialSection | Diagram | Threat):
        return Experiment.objects.filter(scenario_id=instance.scenario_id)
    if isinstance(instance, Arm | Questionnaire):
        return Experiment.objects.filter(pk=instance.experiment_id)
    if isinstance(instance, ArmDiagram):
        return Experiment.objects.filter(arms__pk=instance.arm_id)
    return Experiment.objects.filter(questionnaires__pk=instance.questionnaire_id)


def experiment_saved(sender, instance: Experiment, raw: bool = False, **kwargs) -> None:
    if not raw and instance.pk is not None:
        instance.content_key = uuid.uuid4()


def content_changed(sender, instance, raw: bool = False, **kwargs) -> None:
    if not raw:
        _experiments_of(instance).update(content_key=uuid.uuid4())


def arm_diagrams_changed(sender, instance, action: str, **kwargs) -> None:
    # instance is the arm, or the diagram when the relation is changed from the diagram's side.
    if action.startswith("post_"):
        _experiments_of(instance).update(content_key=uuid.uuid4())


def connect() -> None:
    pre_save.connect(experiment_saved, sender=Experiment, dispatch_uid="experiment_saved")
    for model in _CONTENT_MODELS:
        post_save.connect(content_changed, sender=model, dispatch_uid=f"content_saved_{model.__name__}")
        post_delete.connect(content_changed, sender=model, dispatch_uid=f"content_deleted_{model.__name__}")
    m2m_changed.connect(arm_diagrams_changed, sender=Arm.diagrams.through, dispatch_uid="arm_diagrams_changed")
