"""Experiments, their arms, lab sessions, and the participants' records.

No personal data lives here: a participant is a random UUID, an arm, a stage with timestamps, and answers.
"""

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from experiment.codes import grouped, new_participant_code
from threats.i18n import Translatable
from threats.models import Diagram, Scenario, Threat


class Hypothesis(models.TextChoices):
    TWO_SIDED = "two_sided", _("Two-sided: the arms differ")
    GREATER = "greater", _("One-sided: the first arm scores higher than the second")


# The outcomes the analysis compares arms on (analysis/report.py reports them in this order).
OUTCOMES = ("tp", "fn", "fp", "tn", "precision", "recall", "f1", "accuracy", "mean_confidence")


def default_holm_family() -> list[str]:
    """The original study's outcomes as distinct tests: FN = real threats - TP and recall = TP / real threats are
    the same test as TP's, so adjusting over them as well would count one test three times."""
    return ["tp", "fp", "precision"]


class DebriefShown(models.TextChoices):
    WITH_FEEDBACK = "with_feedback", _("With the feedback, once the instructor releases it")
    AT_ONCE = "at_once", _("On the thank-you page, at once")


class Experiment(Translatable):
    slug = models.SlugField(_("slug"), unique=True)
    title = models.CharField(
        _("title"), max_length=200, help_text=_("The research title, for staff; participants never see it.")
    )
    # Apart from the research title, which may name the treatment: a participant who read "Does a DFD help?" would
    # know the hypothesis, and one in the control arm would know what they miss.
    participant_title = models.CharField(
        _("participant title"),
        max_length=200,
        help_text=_(
            "The title participants read (consent page, page header). Name no diagram that an arm does not get."
        ),
    )
    description = models.TextField(_("description"), blank=True)
    scenario = models.ForeignKey(
        Scenario, verbose_name=_("scenario"), on_delete=models.PROTECT, related_name="experiments"
    )
    hypothesis = models.CharField(
        _("hypothesis"), max_length=20, choices=Hypothesis.choices, default=Hypothesis.TWO_SIDED
    )
    ask_confidence = models.BooleanField(
        _("ask confidence"), default=False, help_text=_("Ask a 1..5 confidence rating with each threat.")
    )
    min_training_seconds = models.PositiveIntegerField(
        _("min training seconds"),
        default=0,
        help_text=_("Participants cannot leave the training earlier (0: no minimum)."),
    )
    min_plausible_threats_seconds = models.PositiveIntegerField(
        _("min plausible threats seconds"),
        default=0,
        help_text=_("Answering the threats faster than this flags a participant as implausibly fast."),
    )
    stratify_item = models.CharField(
        _("stratify item"),
        max_length=60,
        blank=True,
        help_text=_("Key of the entry item whose answer picks the randomisation stratum."),
    )
    strata = models.JSONField(
        _("strata"),
        default=dict,
        blank=True,
        help_text=_("Answer value -> stratum name, e.g. {'none': 'novice', ...}."),
    )
    equivalence_margins = models.JSONField(
        _("equivalence margins"),
        default=dict,
        blank=True,
        help_text=_(
            "Outcome -> {'margin': number in the outcome's units, 'rationale': text}. An outcome without a margin "
            "gets no equivalence test."
        ),
    )
    holm_family = models.JSONField(
        _("Holm family"),
        default=default_holm_family,
        blank=True,
        help_text=_(
            "The outcomes whose p values are adjusted together by Holm's method, e.g. ['tp', 'fp', 'precision']."
        ),
    )
    stratify_analysis_by_session = models.BooleanField(
        _("stratify the analysis by session"),
        default=False,
        help_text=_(
            "The stratified tests also take each session (a lab, a site) as a stratum, besides the randomisation's."
        ),
    )
    # Shown after the lab only (blinding.Shown.AFTER_THE_LAB): it tells the real question and that some threats were
    # fabricated, which classmates still at work must not hear.
    debrief_html = models.TextField(
        _("debrief"),
        help_text=_("The study's real question, and that some threats were fabricated on purpose (HTML)."),
    )
    debrief_shown = models.CharField(
        _("debrief shown"), max_length=20, choices=DebriefShown.choices, default=DebriefShown.WITH_FEEDBACK
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Changes whenever the experiment or anything it shows is saved or deleted (experiment/signals.py): workers
    # keep the content they render per key (experiment/content.py), so a new key is how they learn of an edit.
    content_key = models.UUIDField(_("content key"), default=uuid.uuid4, editable=False)

    class Meta:
        verbose_name = _("experiment")
        verbose_name_plural = _("experiments")
        permissions = [
            ("view_analysis", _("Can see the analysis of an experiment")),
            ("export_results", _("Can export an experiment's results")),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        # Imported here: the definition package imports these models.
        from experiment.definition import analysis_plan

        problems: list[str] = []
        plan = {
            "analysis": analysis_plan.dumped(
                self.equivalence_margins, self.holm_family, self.stratify_analysis_by_session
            )
        }
        analysis_plan.check(problems, plan, "experiment")
        if problems:
            raise ValidationError(problems)


class InformationSheet(Translatable):
    """What a student reads before consenting, as an ethics board asks for it; one per experiment."""

    experiment = models.OneToOneField(
        Experiment, verbose_name=_("experiment"), on_delete=models.CASCADE, related_name="information_sheet"
    )
    version = models.CharField(
        _("version"), max_length=40, help_text=_("Recorded with each participant's consent, e.g. 2025-09-01.")
    )
    is_example = models.BooleanField(
        _("is example"), default=False, help_text=_("The shipped example: replace it with your study's own.")
    )
    researchers = models.TextField(_("researchers"))
    institution = models.TextField(_("institution"))
    contact = models.TextField(_("contact"))
    ethics_approval = models.TextField(_("ethics approval"), help_text=_("The ethics board and its reference."))
    duration = models.TextField(_("duration"))
    voluntariness = models.TextField(_("voluntariness and withdrawal"))
    data_use = models.TextField(_("data use and retention"))

    class Meta:
        verbose_name = _("information sheet")
        verbose_name_plural = _("information sheets")

    def __str__(self) -> str:
        return f"{self.experiment} ({self.version})"


class ConsentStatement(Translatable):
    sheet = models.ForeignKey(
        InformationSheet, verbose_name=_("information sheet"), on_delete=models.CASCADE, related_name="statements"
    )
    key = models.SlugField(_("key"), max_length=60, help_text=_("Recorded with each participant who agrees."))
    position = models.PositiveSmallIntegerField(_("position"))
    text = models.TextField(_("text"))
    required = models.BooleanField(_("required"), default=True, help_text=_("Nobody takes part without agreeing."))

    class Meta:
        verbose_name = _("consent statement")
        verbose_name_plural = _("consent statements")
        ordering = ["sheet", "position"]
        constraints = [
            models.UniqueConstraint(fields=["sheet", "key"], name="experiment_statement_unique_key"),
        ]

    def __str__(self) -> str:
        return self.key


class Arm(models.Model):
    experiment = models.ForeignKey(
        Experiment, verbose_name=_("experiment"), on_delete=models.CASCADE, related_name="arms"
    )
    slug = models.SlugField(_("slug"))
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"))
    diagrams = models.ManyToManyField(
        Diagram, verbose_name=_("diagrams"), through="ArmDiagram", related_name="arms", blank=True
    )

    class Meta:
        verbose_name = _("arm")
        verbose_name_plural = _("arms")
        ordering = ["experiment", "position"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "slug"], name="experiment_arm_unique_slug"),
            models.UniqueConstraint(fields=["experiment", "position"], name="experiment_arm_unique_position"),
        ]

    def __str__(self) -> str:
        return self.name

    def shown_diagrams(self) -> models.QuerySet[Diagram]:
        """The diagrams this arm shows, in its order (lazy: a page whose block is cached never runs the query)."""
        return Diagram.objects.shown_by(self.pk)


class ArmDiagram(models.Model):
    arm = models.ForeignKey(Arm, verbose_name=_("arm"), on_delete=models.CASCADE, related_name="diagram_links")
    diagram = models.ForeignKey(Diagram, verbose_name=_("diagram"), on_delete=models.CASCADE, related_name="arm_links")
    position = models.PositiveSmallIntegerField(_("position"))

    class Meta:
        verbose_name = _("arm diagram")
        verbose_name_plural = _("arm diagrams")
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
    experiment = models.ForeignKey(
        Experiment, verbose_name=_("experiment"), on_delete=models.PROTECT, related_name="sessions"
    )
    label = models.CharField(
        _("label"), max_length=200, blank=True, help_text=_("For instructors, e.g. 'Tuesday group'.")
    )
    join_code = models.CharField(_("join code"), max_length=12, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=SessionStatus.choices, default=SessionStatus.DRAFT)
    closes_at = models.DateTimeField(
        _("closes at"), null=True, blank=True, help_text=_("Optional: stop admitting students then.")
    )
    capacity = models.PositiveIntegerField(
        _("capacity"), null=True, blank=True, help_text=_("Optional: most students admitted.")
    )
    new_participants_per_address = models.PositiveIntegerField(
        _("new participants per address"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Optional: most students who may join from one network address in 10 minutes; empty for the default "
            "(200). A class behind one NAT shares an address: raise it for a bigger class."
        ),
    )
    declined_count = models.PositiveIntegerField(
        _("declined count"), default=0, help_text=_("Students who declined consent.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Set by an instructor once the session is closed: from then on its participants see the answer key beside
    # their answers. Set per session, so a session created later never sees it.
    feedback_released_at = models.DateTimeField(
        _("feedback released at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When participants could first see their feedback; empty while it is not released."),
    )

    class Meta:
        verbose_name = _("lab session")
        verbose_name_plural = _("lab sessions")
        constraints = [
            models.CheckConstraint(
                condition=Q(new_participants_per_address__isnull=True) | Q(new_participants_per_address__gte=1),
                name="experiment_labsession_new_participants_at_least_1",
            ),
        ]
        permissions = [
            ("run_session", _("Can run lab sessions: open, close, join sheet, monitor, rehearse")),
            ("delete_session_data", _("Can delete all data a lab session collected")),
            ("release_feedback", _("Can release participants' feedback for a closed lab session")),
        ]

    def __str__(self) -> str:
        return f"{self.join_code} {self.label}".strip()

    def is_closed(self, now=None) -> bool:
        """Closed by an instructor or past its closing time: it takes no new students."""
        now = now or timezone.now()
        return self.status == SessionStatus.CLOSED or (self.closes_at is not None and now >= self.closes_at)

    def feedback_is_released(self) -> bool:
        """Feedback shows while it is released and the session stays closed: reopening hides it from newcomers."""
        return self.feedback_released_at is not None and self.is_closed()

    def clean(self) -> None:
        """Refuse a new experiment once anybody (a student or a rehearsal bot) has joined: their threat order, arm
        and answers belong to the experiment they joined, and their pages would break in another one."""
        super().clean()
        if self.pk is None or self.experiment_id is None:
            return
        moved = LabSession.objects.filter(pk=self.pk).exclude(experiment_id=self.experiment_id).exists()
        if moved and self.participants.exists():
            raise ValidationError(
                {
                    "experiment": _(
                        "Participants have joined this session, so its experiment cannot change; create a new "
                        "session for the other experiment."
                    )
                }
            )


class AllocationBlock(models.Model):
    """A permuted block of arm slots; participants fill it in order. Audited: never changed once drawn."""

    session = models.ForeignKey(LabSession, verbose_name=_("session"), on_delete=models.CASCADE, related_name="blocks")
    stratum = models.CharField(
        _("stratum"), max_length=50, blank=True, help_text=_("Empty until stratified designs exist.")
    )
    number = models.PositiveIntegerField(_("number"))
    arm_sequence = models.JSONField(_("arm sequence"), help_text=_("Arm ids, one per slot, in allocation order."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("allocation block")
        verbose_name_plural = _("allocation blocks")
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


class ParticipantQuerySet(models.QuerySet):
    def real(self):
        return self.filter(is_simulated=False)


class Participant(models.Model):
    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    # What the participant types to resume on another device or to see their completion code again: never in a URL,
    # so a shared computer's history does not hold it (the UUID above is in every address).
    short_code = models.CharField(
        _("short code"),
        max_length=11,
        default=new_participant_code,
        editable=False,
        help_text=_("The code the participant types to resume (shown as 7KQM-X3PD-RW9)."),
    )
    # The consent form carries this token: a repeated consent POST finds the participant it already made.
    entry_token = models.UUIDField(_("entry token"), unique=True, editable=False)
    session = models.ForeignKey(
        LabSession, verbose_name=_("session"), on_delete=models.CASCADE, related_name="participants"
    )
    # Empty only while the participant answers the entry questionnaire (its answer may pick the stratum).
    arm = models.ForeignKey(
        Arm, verbose_name=_("arm"), on_delete=models.PROTECT, related_name="participants", null=True, blank=True
    )
    block = models.ForeignKey(
        AllocationBlock,
        verbose_name=_("block"),
        on_delete=models.PROTECT,
        related_name="participants",
        null=True,
        blank=True,
    )
    block_position = models.PositiveSmallIntegerField(_("block position"), null=True, blank=True)
    stratum = models.CharField(_("stratum"), max_length=50, blank=True)
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, default=Stage.TRAINING)
    threat_order = models.JSONField(
        _("threat order"), help_text=_("Threat ids in the order this participant was shown them.")
    )
    exposure = models.JSONField(
        _("exposure"),
        default=dict,
        blank=True,
        help_text=_("Seconds the pages and diagrams were in view, measured in the browser."),
    )
    comment = models.TextField(_("comment"), blank=True)
    is_simulated = models.BooleanField(
        _("is simulated"), default=False, help_text=_("A bot from a rehearsal or simulation.")
    )
    consented_at = models.DateTimeField(_("consented at"), default=timezone.now)
    sheet_version = models.CharField(
        _("sheet version"), max_length=40, help_text=_("The version of the information sheet the participant read.")
    )
    agreed_statements = models.JSONField(
        _("agreed statements"),
        default=list,
        blank=True,
        help_text=_("The keys of the consent statements the participant agreed to."),
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    threats_started_at = models.DateTimeField(_("threats started at"), null=True, blank=True)
    usefulness_started_at = models.DateTimeField(_("usefulness started at"), null=True, blank=True)
    exit_started_at = models.DateTimeField(_("exit started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity at"), default=timezone.now)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(fields=["block", "block_position"], name="experiment_participant_one_per_slot"),
            # Also the index of the resume form's lookup.
            models.UniqueConstraint(fields=["short_code"], name="experiment_participant_unique_short_code"),
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

    @property
    def resume_code(self) -> str:
        """The short code as the participant reads it, in groups."""
        return grouped(self.short_code)


class Choice(models.TextChoices):
    APPLICABLE = "applicable", _("Applicable")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class Answer(models.Model):
    participant = models.ForeignKey(
        Participant, verbose_name=_("participant"), on_delete=models.CASCADE, related_name="answers"
    )
    threat = models.ForeignKey(Threat, verbose_name=_("threat"), on_delete=models.PROTECT, related_name="answers")
    position = models.PositiveSmallIntegerField(_("position"), help_text=_("Where the threat was shown, from 1."))
    choice = models.CharField(_("choice"), max_length=20, choices=Choice.choices)
    confidence = models.PositiveSmallIntegerField(
        _("confidence"), null=True, blank=True, help_text=_("1..5, when the experiment asks.")
    )
    answered_at = models.DateTimeField(_("answered at"), default=timezone.now)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
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


class UsefulnessRating(models.Model):
    participant = models.ForeignKey(
        Participant, verbose_name=_("participant"), on_delete=models.CASCADE, related_name="ratings"
    )
    source = models.CharField(
        _("source"), max_length=60, help_text=_("The information source rated, e.g. diagram:dfd.")
    )
    value = models.PositiveSmallIntegerField(_("value"))

    class Meta:
        verbose_name = _("usefulness rating")
        verbose_name_plural = _("usefulness ratings")
        ordering = ["participant", "id"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "source"], name="experiment_rating_one_per_source"),
            models.CheckConstraint(condition=Q(value__gte=1, value__lte=5), name="experiment_rating_likert_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.value}"


class Placement(models.TextChoices):
    ENTRY = "entry", _("Before the training (entry)")
    EXIT = "exit", _("After the threats (exit)")


class ItemKind(models.TextChoices):
    SINGLE_CHOICE = "single_choice", _("Single choice")
    LIKERT_ROWS = "likert_rows", _("Likert rows")
    PERCENTAGE_BANDS = "percentage_bands", _("Percentage bands")
    FREE_TEXT = "free_text", _("Free text")


class Questionnaire(Translatable):
    experiment = models.ForeignKey(
        Experiment, verbose_name=_("experiment"), on_delete=models.CASCADE, related_name="questionnaires"
    )
    placement = models.CharField(_("placement"), max_length=10, choices=Placement.choices)
    title = models.CharField(_("title"), max_length=200)
    intro = models.TextField(_("intro"), blank=True)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        constraints = [
            models.UniqueConstraint(fields=["experiment", "placement"], name="experiment_questionnaire_one_per_place"),
        ]

    def __str__(self) -> str:
        return self.title


# The scale a percentage-bands item offers when its definition lists no options of its own.
DEFAULT_BANDS = [{"value": v, "label": v} for v in ("0-20%", "21-40%", "41-60%", "61-80%", "81-100%")]


class QuestionnaireItem(Translatable):
    questionnaire = models.ForeignKey(
        Questionnaire, verbose_name=_("questionnaire"), on_delete=models.CASCADE, related_name="items"
    )
    key = models.SlugField(_("key"), max_length=60, help_text=_("Column name in the export, e.g. k8s_experience."))
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=20, choices=ItemKind.choices)
    text = models.TextField(_("text"))
    options = models.JSONField(
        _("options"), default=list, blank=True, help_text=_("[{value, label}] for choices and scales.")
    )
    rows = models.JSONField(_("rows"), default=list, blank=True, help_text=_("[{key, label}] for Likert rows."))
    required = models.BooleanField(_("required"), default=True)

    class Meta:
        verbose_name = _("questionnaire item")
        verbose_name_plural = _("questionnaire items")
        ordering = ["questionnaire", "position"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "key"], name="experiment_item_unique_key"),
        ]

    def __str__(self) -> str:
        return self.key

    def choice_options(self) -> list[dict]:
        """The [{value, label}] a participant chooses from: the item's own, or the default percentage bands."""
        if self.kind == ItemKind.PERCENTAGE_BANDS and not self.options:
            return DEFAULT_BANDS
        return self.options


class ItemResponse(models.Model):
    participant = models.ForeignKey(
        Participant, verbose_name=_("participant"), on_delete=models.CASCADE, related_name="responses"
    )
    item = models.ForeignKey(
        QuestionnaireItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="responses"
    )
    row = models.CharField(_("row"), max_length=60, blank=True, help_text=_("The Likert row; empty for other kinds."))
    value = models.TextField(_("value"), blank=True)

    class Meta:
        verbose_name = _("item response")
        verbose_name_plural = _("item responses")
        constraints = [
            models.UniqueConstraint(fields=["participant", "item", "row"], name="experiment_response_one_per_row"),
        ]

    def __str__(self) -> str:
        return f"{self.item.key}{'.' + self.row if self.row else ''}: {self.value}"
