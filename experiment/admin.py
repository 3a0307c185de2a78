"""Django admin arranged for instructors (sessions, join sheet, monitor) and researchers (everything)."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from experiment import admin_views, feedback_admin, preview
from experiment.content import renew_key
from experiment.models import (
    Answer,
    Arm,
    ArmDiagram,
    ConsentStatement,
    Experiment,
    InformationSheet,
    LabSession,
    Participant,
    SessionStatus,
    UsefulnessRating,
)
from experiment.services import sessions
from threats.html import clean_html, clean_translations


class ContentAdmin(admin.ModelAdmin):
    """The admin of something participants are shown: each save or delete renews the content key of the
    experiments that show it (experiment/content.py), so every worker's next page shows the edit."""

    # How an experiment reaches this model, as an ORM lookup: "scenario" for a Scenario, "scenario__threats" for
    # a Threat, "pk" for the experiment itself.
    experiments_lookup = "pk"

    def _experiment_ids(self, pks) -> list[int]:
        found = Experiment.objects.filter(**{f"{self.experiments_lookup}__in": list(pks)})
        return list(found.values_list("pk", flat=True).distinct())

    def save_model(self, request, obj, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        renew_key(self._experiment_ids([obj.pk]))

    def save_formset(self, request, form, formset, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        renew_key(self._experiment_ids([form.instance.pk]))

    def delete_model(self, request, obj) -> None:
        # The experiments are found before the delete takes the rows that lead to them.
        shown_by = self._experiment_ids([obj.pk])
        super().delete_model(request, obj)
        renew_key(shown_by)

    def delete_queryset(self, request, queryset) -> None:
        shown_by = self._experiment_ids(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        renew_key(shown_by)


class ArmDiagramInline(admin.TabularInline):
    model = ArmDiagram
    extra = 0


@admin.register(Arm)
class ArmAdmin(ContentAdmin):
    experiments_lookup = "arms"
    list_display = ["name", "experiment", "position"]
    list_filter = ["experiment"]
    inlines = [ArmDiagramInline]


class ArmInline(admin.TabularInline):
    model = Arm
    extra = 0
    show_change_link = True


class ExperimentForm(forms.ModelForm):
    """The debrief is HTML shown as it is: cleaned as a loaded definition's is (threats/html.py)."""

    class Meta:
        model = Experiment
        fields = [
            "slug",
            "title",
            "participant_title",
            "description",
            "scenario",
            "hypothesis",
            "ask_confidence",
            "min_training_seconds",
            "min_plausible_threats_seconds",
            "stratify_item",
            "strata",
            "debrief_html",
            "debrief_shown",
            "translations",
        ]

    def clean_debrief_html(self) -> str:
        return clean_html(self.cleaned_data["debrief_html"])

    def clean_translations(self):
        return clean_translations(self.cleaned_data["translations"], ["debrief_html"])


@admin.register(Experiment)
class ExperimentAdmin(ContentAdmin):
    form = ExperimentForm
    list_display = ["title", "slug", "scenario", "hypothesis", "created_at"]
    search_fields = ["title", "slug"]
    list_filter = ["hypothesis"]
    inlines = [ArmInline]
    change_list_template = "admin/experiment/experiment/change_list.html"
    change_form_template = "admin/experiment/experiment/change_form.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("upload/", wrap(admin_views.upload_definition), name="experiment_experiment_upload"),
            path(
                "<int:pk>/definition.json",
                wrap(admin_views.download_definition),
                name="experiment_experiment_definition",
            ),
            path("<int:pk>/preview/", wrap(preview.preview_index), name="experiment_experiment_preview"),
            path(
                "<int:pk>/preview/<int:arm_pk>/<slug:page>/",
                wrap(preview.preview_page),
                name="experiment_experiment_preview_page",
            ),
            path(
                "<int:pk>/preview/<int:arm_pk>/diagrams/<slug:slug>.svg",
                wrap(preview.preview_diagram),
                name="experiment_experiment_preview_diagram",
            ),
            path("<int:pk>/feedback/", wrap(feedback_admin.release_experiment), name="experiment_experiment_feedback"),
            *super().get_urls(),
        ]


class ConsentStatementInline(admin.TabularInline):
    model = ConsentStatement
    extra = 0


@admin.register(InformationSheet)
class InformationSheetAdmin(ContentAdmin):
    """Edits show on the next consent page; a participant keeps the version they agreed to, so give an edited sheet
    a new version."""

    experiments_lookup = "information_sheet"
    list_display = ["experiment", "version", "is_example"]
    inlines = [ConsentStatementInline]


class ParticipantInline(admin.TabularInline):
    """The session's participants, read-only, each linked to its answers; shown to those who may view them."""

    model = Participant
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["code", "arm", "stage", "stratum", "is_simulated", "consented_at", "completed_at", "last_activity_at"]
    readonly_fields = fields
    ordering = ["consented_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("arm")


@admin.register(LabSession)
class LabSessionAdmin(admin.ModelAdmin):
    list_display = ["join_code", "label", "experiment", "status", "n_participants", "capacity", "closes_at", "tools"]
    list_filter = ["status", "experiment"]
    search_fields = ["join_code", "label"]
    readonly_fields = ["join_code", "declined_count", "created_at", "feedback_released_at"]
    fields = [
        "experiment",
        "label",
        "join_code",
        "status",
        "closes_at",
        "capacity",
        "new_participants_per_address",
        "declined_count",
        "created_at",
        "feedback_released_at",
    ]
    actions = ["open_sessions", "close_sessions"]
    inlines = [ParticipantInline]
    change_form_template = "admin/experiment/labsession/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("experiment").annotate(n=Count("participants"))

    @admin.display(description=gettext_lazy("participants"), ordering="n")
    def n_participants(self, obj: LabSession) -> int:
        return obj.n

    @admin.display(description="")
    def tools(self, obj: LabSession) -> str:
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:experiment_labsession_join_sheet", args=[obj.pk]),
            _("join sheet"),
            reverse("admin:experiment_labsession_monitor", args=[obj.pk]),
            _("monitor"),
        )

    def get_readonly_fields(self, request, obj: LabSession | None = None) -> list[str]:
        """The experiment is chosen when the session is created. Afterwards only staff who may change experiments
        (researchers, not instructors) may move a session to another one, and nobody once participants have
        joined (LabSession.clean says why); a read-only field ignores whatever a POST sends for it."""
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and (not request.user.has_perm("experiment.change_experiment") or obj.participants.exists()):
            fields.append("experiment")
        return fields

    def save_model(self, request, obj: LabSession, form, change: bool) -> None:
        if not change:
            obj.join_code = sessions.unused_join_code()
        super().save_model(request, obj, form, change)

    def _set_status(self, request, queryset, status: SessionStatus) -> None:
        updated = queryset.update(status=status)
        self.message_user(
            request,
            _("%(n)s session(s) now %(status)s.") % {"n": updated, "status": status.label.lower()},
            messages.SUCCESS,
        )

    @admin.action(description=gettext_lazy("Open the selected sessions to students"), permissions=["change"])
    def open_sessions(self, request, queryset):
        self._set_status(request, queryset, SessionStatus.OPEN)

    @admin.action(description=gettext_lazy("Close the selected sessions (no new students)"), permissions=["change"])
    def close_sessions(self, request, queryset):
        self._set_status(request, queryset, SessionStatus.CLOSED)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        views = [
            ("join-sheet/", admin_views.join_sheet, "join_sheet"),
            ("monitor/", admin_views.monitor, "monitor"),
            ("monitor.json", admin_views.monitor_data, "monitor_data"),
            ("status/", admin_views.set_status, "set_status"),
            ("rehearse/", admin_views.rehearse, "rehearse"),
            ("reset-rehearsal/", admin_views.reset, "reset"),
            ("completion-codes/", admin_views.check_codes, "codes"),
            ("delete-data/", admin_views.delete_data, "delete_data"),
            ("feedback/", feedback_admin.release_session, "feedback"),
            ("feedback/withdraw/", feedback_admin.withdraw, "feedback_withdraw"),
            ("class-results/", feedback_admin.class_results, "class_results"),
        ]
        return [
            *(
                path(f"<int:pk>/{route}", wrap(view), name=f"experiment_labsession_{name}")
                for route, view, name in views
            ),
            *super().get_urls(),
        ]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AnswerInline(ReadOnlyInline):
    model = Answer
    fields = ["position", "threat", "choice", "answered_at"]
    readonly_fields = fields


class RatingInline(ReadOnlyInline):
    model = UsefulnessRating
    fields = ["source", "value"]
    readonly_fields = fields


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ["code", "session", "arm", "stage", "is_simulated", "consented_at", "last_activity_at"]
    list_filter = ["stage", "is_simulated", "session__experiment", "arm", "session"]
    search_fields = ["code", "session__join_code"]
    list_select_related = ["session", "arm"]
    inlines = [AnswerInline, RatingInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
