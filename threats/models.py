"""Scenarios, their training material and diagrams, and the threats participants judge."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from threats.i18n import Translatable


class Stride(models.TextChoices):
    SPOOFING = "spoofing", _("Spoofing")
    TAMPERING = "tampering", _("Tampering")
    REPUDIATION = "repudiation", _("Repudiation")
    INFORMATION_DISCLOSURE = "information_disclosure", _("Information disclosure")
    DENIAL_OF_SERVICE = "denial_of_service", _("Denial of service")
    ELEVATION_OF_PRIVILEGE = "elevation_of_privilege", _("Elevation of privilege")


# The STRIDE table of the training: each threat category violates one security property.
STRIDE_PROPERTY = {
    Stride.SPOOFING: (_("Authentication"), _("Pretending to be someone or something else")),
    Stride.TAMPERING: (_("Integrity"), _("Modifying data or code")),
    Stride.REPUDIATION: (_("Non-repudiation"), _("Claiming not to have performed an action")),
    Stride.INFORMATION_DISCLOSURE: (
        _("Confidentiality"),
        _("Exposing information to someone not allowed to see it"),
    ),
    Stride.DENIAL_OF_SERVICE: (_("Availability"), _("Denying or degrading service to users")),
    Stride.ELEVATION_OF_PRIVILEGE: (
        _("Authorization"),
        _("Gaining capabilities without proper authorization"),
    ),
}


class DiagramKind(models.TextChoices):
    DFD = "dfd", _("Data flow diagram")
    SEQUENCE = "sequence", _("Sequence diagram")
    OTHER = "other", _("Other diagram")


class Scenario(Translatable):
    slug = models.SlugField(_("slug"), unique=True)
    title = models.CharField(_("title"), max_length=200)
    task_html = models.TextField(
        _("task (HTML)"), help_text=_("The task as participants read it above the threats (trusted HTML).")
    )

    class Meta:
        verbose_name = _("scenario")
        verbose_name_plural = _("scenarios")

    def __str__(self) -> str:
        return self.title


class MaterialSection(Translatable):
    scenario = models.ForeignKey(
        Scenario, verbose_name=_("scenario"), on_delete=models.CASCADE, related_name="sections"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=200)
    body_html = models.TextField(_("body (HTML)"), help_text=_("Trusted HTML written by the researchers."))
    video_url = models.CharField(
        _("video URL"),
        max_length=500,
        blank=True,
        help_text=_("A video page link, or a .mp4/.webm file to play in the page."),
    )

    class Meta:
        verbose_name = _("material section")
        verbose_name_plural = _("material sections")
        ordering = ["scenario", "position"]
        constraints = [
            models.UniqueConstraint(fields=["scenario", "position"], name="threats_section_unique_position"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def video_is_file(self) -> bool:
        return self.video_url.lower().endswith((".mp4", ".webm", ".ogg"))


class DiagramQuerySet(models.QuerySet):
    def shown_by(self, arm_id: int | None):
        """The diagrams an arm shows, in its order (lazy: a page whose block is cached never runs the query)."""
        return self.filter(arm_links__arm_id=arm_id).order_by("arm_links__position")


class Diagram(Translatable):
    scenario = models.ForeignKey(
        Scenario, verbose_name=_("scenario"), on_delete=models.CASCADE, related_name="diagrams"
    )
    slug = models.SlugField(_("slug"))
    kind = models.CharField(_("kind"), max_length=20, choices=DiagramKind.choices)
    title = models.CharField(_("title"), max_length=200)
    svg = models.TextField(_("SVG"), help_text=_("The diagram as SVG. Served as an image, so scripts in it never run."))
    text_alternative = models.TextField(
        _("text alternative"), help_text=_("Every element and flow in words, for readers who cannot see it.")
    )
    terms = models.JSONField(
        _("terms"),
        default=dict,
        blank=True,
        help_text=_(
            'Per language, the words that name this diagram: {"en": ["DFD", "data flow diagram"]}. A definition '
            "whose participant text names it to an arm that does not get it is refused."
        ),
    )

    objects = DiagramQuerySet.as_manager()

    class Meta:
        verbose_name = _("diagram")
        verbose_name_plural = _("diagrams")
        ordering = ["scenario", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scenario", "slug"], name="threats_diagram_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.title


class Threat(Translatable):
    scenario = models.ForeignKey(Scenario, verbose_name=_("scenario"), on_delete=models.CASCADE, related_name="threats")
    ref = models.CharField(_("ref"), max_length=80, help_text=_("The threat's ID as participants see it."))
    position = models.PositiveSmallIntegerField(
        _("position"), help_text=_("Order in the definition file; participants see a shuffle.")
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    stride = models.CharField(_("STRIDE category"), max_length=30, choices=Stride.choices)
    assumptions = models.JSONField(
        _("assumptions"), default=list, help_text=_("A list of assumptions, each a sentence.")
    )
    affected_components = models.JSONField(
        _("affected components"), default=list, help_text=_("A list of component names.")
    )
    is_real = models.BooleanField(
        _("is real"), help_text=_("The answer key: a real threat (true) or a fake one (false).")
    )
    rationale = models.TextField(_("rationale"), blank=True, help_text=_("Why it is real or fake. Researchers only."))
    source = models.TextField(_("source"), blank=True, help_text=_("Where the threat comes from. Researchers only."))

    class Meta:
        verbose_name = _("threat")
        verbose_name_plural = _("threats")
        ordering = ["scenario", "position"]
        constraints = [
            models.UniqueConstraint(fields=["scenario", "ref"], name="threats_threat_unique_ref"),
            models.UniqueConstraint(fields=["scenario", "position"], name="threats_threat_unique_position"),
        ]

    def __str__(self) -> str:
        return self.ref
