"""The student flow as a stage machine: which stages an experiment has, their order, each one's URL, and the one move
between them (``advance``). Views ask it where a participant belongs; services move participants only through it.
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from experiment.content import kept
from experiment.models import Experiment, Participant, Placement, Questionnaire, Stage

ORDER = [Stage.ENTRY, Stage.TRAINING, Stage.THREATS, Stage.USEFULNESS, Stage.EXIT, Stage.DONE]

# The timestamp field set when a participant enters each stage.
ENTERED_AT = {
    Stage.ENTRY: "consented_at",
    Stage.TRAINING: "assigned_at",
    Stage.THREATS: "threats_started_at",
    Stage.USEFULNESS: "usefulness_started_at",
    Stage.EXIT: "exit_started_at",
    Stage.DONE: "completed_at",
}

URL_NAMES = {
    Stage.ENTRY: "experiment:entry",
    Stage.TRAINING: "experiment:training",
    Stage.THREATS: "experiment:threats",
    Stage.USEFULNESS: "experiment:usefulness",
    Stage.EXIT: "experiment:exit",
    Stage.DONE: "experiment:done",
}

# The questionnaire each optional stage asks; an experiment without it skips the stage.
OPTIONAL = {Stage.ENTRY: Placement.ENTRY, Stage.EXIT: Placement.EXIT}


def _present(placements: set[str]) -> list[str]:
    return [stage.value for stage in ORDER if stage not in OPTIONAL or OPTIONAL[stage] in placements]


def stages_for(experiment: Experiment) -> list[Stage]:
    """The stages a participant of this experiment goes through, in order."""

    def read() -> list[str]:
        return _present(set(Questionnaire.objects.filter(experiment=experiment).values_list("placement", flat=True)))

    return [Stage(stage) for stage in kept(experiment.content_key, "stages", read)]


@dataclass(frozen=True)
class Progress:
    """Where a page stands in the lab, as the student reads it: "Step 3 of 7". The consent page is step 1, the
    thank-you page the last."""

    number: int
    total: int

    @property
    def finishes(self) -> bool:
        """True on the last step before the thank-you page: its button says "Submit and finish", others "Next"."""
        return self.number == self.total - 1


def consent_progress(experiment: Experiment) -> Progress:
    return Progress(1, len(stages_for(experiment)) + 1)


def progress_of(participant: Participant) -> Progress:
    """The participant's step, from the stages kept for its content key (``participant.content_key``, as the page
    selectors annotate it): a page whose stages are kept reads neither the session nor the experiment."""

    def read() -> list[str]:
        questionnaires = Questionnaire.objects.filter(experiment__sessions=participant.session_id)
        return _present(set(questionnaires.values_list("placement", flat=True)))

    stages = kept(participant.content_key, "stages", read)
    return Progress(stages.index(participant.stage) + 2, len(stages) + 1)


def first_stage(experiment: Experiment) -> Stage:
    return stages_for(experiment)[0]


def url_of(participant: Participant) -> str:
    """The URL of the stage the participant is at: every participant view sends them there first."""
    return reverse(URL_NAMES[Stage(participant.stage)], args=[participant.code])


def advance(participant: Participant, expected: Stage, **fields) -> bool:
    """Move the participant from ``expected`` to the experiment's next stage, writing ``fields`` with it.

    A conditional update (``stage=expected``): True if this call moved the participant, False if the participant had
    already left ``expected`` (a second tab, a double click, a replayed POST), in which case nothing is written.
    """
    stages = stages_for(participant.session.experiment)
    target = stages[stages.index(expected) + 1]
    now = timezone.now()
    changes = {"stage": target, "last_activity_at": now, ENTERED_AT[target]: now, **fields}
    moved = Participant.objects.filter(pk=participant.pk, stage=expected).update(**changes)
    if moved:
        # The row now holds exactly these values; setting them spares reading it back.
        for name, value in changes.items():
            setattr(participant, name, value)
    return bool(moved)
