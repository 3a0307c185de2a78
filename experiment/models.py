"""Experiments, their arms, lab sessions, and the participants' records.

No personal data lives here: a participant is a random UUID, an arm, a stage with timestamps, and answers.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from threats.i18n import Translatable
from threats.models import Diagram, Scenario, Threat


class Hypothesis(models.TextChoices):
    TWO_SIDED = "two_sided", _("Two-sided: the arms differ")
    GREATER = "greater", _("One-sided: the first arm scores higher than the second")


class Experiment(Translatable):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    scenario = models.ForeignKey(Scenario, on_delete=models.PROTECT, related_name="experiments")
    hypothesis = models.CharField(max_length=20, choices=Hypothesis.choices, default=Hypothesis.TWO_SIDED)
    ask_confidence = models.BooleanField(default=False, help_text="Ask a 1..5 confidence rating with each threat.")
    min_training_seconds = models.PositiveIntegerField(
        default=0, help_text="Participants cannot leave the training earlier (0: no minimum)."
    )
    min_plausible_threats_seconds = models.PositiveIntegerField(
        default=0, help_text="Answering the threats faster than this flags a participant as implausibly fast."
    )
    stratify_item = models.CharField(
        max_length=60, blank=True, help_text="Key of the entry item whose answer picks the randomisation stratum."
    )
    strata = models.JSONField(
        default=dict, blank=True, help_text="Answer value -> stratum name, e.g. {'none': 'novice', ...}."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [
            ("view_analysis", "Can see the analysis of an experiment"),
            ("export_results", "Can export an experiment's results"),
        ]

    def __str__(self) -> str:
        return self.title


class Arm(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="arms")
    slug = models.SlugField()
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField()
    diagrams = models.ManyToManyField(Diagram, through="ArmDiagram", related_name="arms", blank=True)

    class Meta:
        ordering = ["experiment", "position"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "slug"], name="experiment_arm_unique_slug"),
            models.UniqueConstraint(fields=["experiment", "position"], name="experiment_arm_unique_position"),
        ]

    def __str__(self) -> str:
        return self.name

    def shown_diagrams(self) -> list[Diagram]:
        return [link.diagram for link in self.diagram_links.select_related("diagram").order_by("position")]


class ArmDiagram(models.Model):
    arm = models.ForeignKey(Arm, on_delete=models.CASCADE, related_name="diagram_links")
    diagram = models.ForeignKey(Diagram, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["arm", "position"]
        constraints = [
            models.UniqueConstraint(fields=["arm", "diagram"], name="experiment_armdiagram_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.arm} sees {self.diagram}"


class SessionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class LabSession(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.PROTECT, related_name="sessions")
    label = models.CharField(max_length=200, blank=True, help_text="For instructors, e.g. 'Tuesday group'.")
    join_code = models.CharField(max_length=12, unique=True)
    status = models.CharField(max_length=10, choices=SessionStatus.choices, default=SessionStatus.DRAFT)
    closes_at = models.DateTimeField(null=True, blank=True, help_text="Optional: stop admitting students then.")
    capacity = models.PositiveIntegerField(null=True, blank=True, help_text="Optional: most students admitted.")
    declined_count = models.PositiveIntegerField(default=0, help_text="Students who declined consent.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [
            ("run_session", "Can run lab sessions: open, close, join sheet, monitor, rehearse"),
            ("delete_session_data", "Can delete all data a lab session collected"),
        ]

    def __str__(self) -> str:
        return f"{self.join_code} {self.label}".strip()


class AllocationBlock(models.Model):
    """A permuted block of arm slots; participants fill it in order. Audited: never changed once drawn."""

    session = models.ForeignKey(LabSession, on_delete=models.CASCADE, related_name="blocks")
    stratum = models.CharField(max_length=50, blank=True, help_text="Empty until stratified designs exist.")
    number = models.PositiveIntegerField()
    arm_sequence = models.JSONField(help_text="Arm ids, one per slot, in allocation order.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "stratum", "number"]
        constraints = [
            models.UniqueConstraint(fields=["session", "stratum", "number"], name="experiment_block_unique_number"),
        ]

    def __str__(self) -> str:
        return f"block {self.number} of {self.session}"

    @property
    def size(self) -> int:
        return len(self.arm_sequence)


class Stage(models.TextChoices):
    ENTRY = "entry", _("Entry questionnaire")
    TRAINING = "training", _("Training")
    THREATS = "threats", _("Threats")
    USEFULNESS = "usefulness", _("Usefulness")
    EXIT = "exit", _("Exit questionnaire")
    DONE = "done", _("Done")


STAGE_ORDER = [Stage.ENTRY, Stage.TRAINING, Stage.THREATS, Stage.USEFULNESS, Stage.EXIT, Stage.DONE]

# The timestamp field set when a participant enters each stage.
STAGE_TIMESTAMP = {
    Stage.ENTRY: "consented_at",
    Stage.TRAINING: "assigned_at",
    Stage.THREATS: "threats_started_at",
    Stage.USEFULNESS: "usefulness_started_at",
    Stage.EXIT: "exit_started_at",
    Stage.DONE: "completed_at",
}


class ParticipantQuerySet(models.QuerySet):
    def completed(self):
        return self.filter(stage=Stage.DONE)

    def in_arm(self, arm: Arm):
        return self.filter(arm=arm)

    def real(self):
        return self.filter(is_simulated=False)


class Participant(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The consent form carries this token: a repeated consent POST finds the participant it already made.
    entry_token = models.UUIDField(unique=True, editable=False)
    session = models.ForeignKey(LabSession, on_delete=models.CASCADE, related_name="participants")
    # Empty only while the participant answers the entry questionnaire (its answer may pick the stratum).
    arm = models.ForeignKey(Arm, on_delete=models.PROTECT, related_name="participants", null=True, blank=True)
    block = models.ForeignKey(
        AllocationBlock, on_delete=models.PROTECT, related_name="participants", null=True, blank=True
    )
    block_position = models.PositiveSmallIntegerField(null=True, blank=True)
    stratum = models.CharField(max_length=50, blank=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.TRAINING)
    threat_order = models.JSONField(help_text="Threat ids in the order this participant was shown them.")
    exposure = models.JSONField(
        default=dict, blank=True, help_text="Seconds the pages and diagrams were in view, measured in the browser."
    )
    comment = models.TextField(blank=True)
    is_simulated = models.BooleanField(default=False, help_text="A bot from a rehearsal or simulation.")
    consented_at = models.DateTimeField(default=timezone.now)
    assigned_at = models.DateTimeField(null=True, blank=True)
    threats_started_at = models.DateTimeField(null=True, blank=True)
    usefulness_started_at = models.DateTimeField(null=True, blank=True)
    exit_started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(default=timezone.now)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["block", "block_position"], name="experiment_participant_one_per_slot"),
            models.CheckConstraint(
                condition=Q(stage="entry") | Q(arm__isnull=False, block__isnull=False, block_position__isnull=False),
                name="experiment_participant_assigned_after_entry",
            ),
        ]
        indexes = [
            # The live monitor and the analysis count and list a session's participants by stage.
            models.Index(fields=["session", "stage"], name="experiment_part_session_stage"),
        ]

    def __str__(self) -> str:
        return str(self.code)


class Choice(models.TextChoices):
    APPLICABLE = "applicable", _("Applicable")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class Answer(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="answers")
    threat = models.ForeignKey(Threat, on_delete=models.PROTECT, related_name="answers")
    position = models.PositiveSmallIntegerField(help_text="Where the threat was shown, from 1.")
    choice = models.CharField(max_length=20, choices=Choice.choices)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1..5, when the experiment asks.")
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["participant", "position"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "threat"], name="experiment_answer_one_per_threat"),
            models.UniqueConstraint(fields=["participant", "position"], name="experiment_answer_unique_position"),
            models.CheckConstraint(condition=Q(choice__in=Choice.values), name="experiment_answer_valid_choice"),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True) | Q(confidence__gte=1, confidence__lte=5),
                name="experiment_answer_confidence_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.threat}: {self.choice}"

    @property
    def marked_real(self) -> bool:
        return self.choice == Choice.APPLICABLE


class UsefulnessRating(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="ratings")
    source = models.CharField(max_length=60, help_text="The information source rated, e.g. diagram:dfd.")
    value = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["participant", "id"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "source"], name="experiment_rating_one_per_source"),
            models.CheckConstraint(condition=Q(value__gte=1, value__lte=5), name="experiment_rating_likert_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.value}"


class CompletionCode(models.Model):
    """Proof of completion for course credit, deliberately unlinked from the participant.

    No foreign key to the participant and no timestamp: an instructor can check that a code belongs to a session
    without any way to find the answers of the student who shows it.
    """

    code = models.CharField(max_length=16, primary_key=True)
    session = models.ForeignKey(LabSession, on_delete=models.CASCADE, related_name="completion_codes")

    def __str__(self) -> str:
        return self.code


class Placement(models.TextChoices):
    ENTRY = "entry", _("Before the training (entry)")
    EXIT = "exit", _("After the threats (exit)")


class ItemKind(models.TextChoices):
    SINGLE_CHOICE = "single_choice", _("Single choice")
    LIKERT_ROWS = "likert_rows", _("Likert rows")
    PERCENTAGE_BANDS = "percentage_bands", _("Percentage bands")
    FREE_TEXT = "free_text", _("Free text")


class Questionnaire(Translatable):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="questionnaires")
    placement = models.CharField(max_length=10, choices=Placement.choices)
    title = models.CharField(max_length=200)
    intro = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["experiment", "placement"], name="experiment_questionnaire_one_per_place"),
        ]

    def __str__(self) -> str:
        return self.title


class QuestionnaireItem(Translatable):
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="items")
    key = models.SlugField(max_length=60, help_text="Column name in the export, e.g. k8s_experience.")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=ItemKind.choices)
    text = models.TextField()
    options = models.JSONField(default=list, blank=True, help_text="[{value, label}] for choices and scales.")
    rows = models.JSONField(default=list, blank=True, help_text="[{key, label}] for Likert rows.")
    required = models.BooleanField(default=True)

    class Meta:
        ordering = ["questionnaire", "position"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "key"], name="experiment_item_unique_key"),
        ]

    def __str__(self) -> str:
        return self.key


class ItemResponse(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="responses")
    item = models.ForeignKey(QuestionnaireItem, on_delete=models.PROTECT, related_name="responses")
    row = models.CharField(max_length=60, blank=True, help_text="The Likert row; empty for other kinds.")
    value = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["participant", "item", "row"], name="experiment_response_one_per_row"),
        ]

    def __str__(self) -> str:
        return f"{self.item.key}{'.' + self.row if self.row else ''}: {self.value}"
