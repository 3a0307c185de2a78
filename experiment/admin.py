from django.contrib import admin

from experiment.models import Answer, Arm, ArmDiagram, Experiment, LabSession, Participant, UsefulnessRating


class ArmDiagramInline(admin.TabularInline):
    model = ArmDiagram
    extra = 0


@admin.register(Arm)
class ArmAdmin(admin.ModelAdmin):
    list_display = ["name", "experiment", "position"]
    inlines = [ArmDiagramInline]


class ArmInline(admin.TabularInline):
    model = Arm
    extra = 0
    show_change_link = True


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "scenario", "hypothesis"]
    search_fields = ["title", "slug"]
    inlines = [ArmInline]


@admin.register(LabSession)
class LabSessionAdmin(admin.ModelAdmin):
    list_display = ["join_code", "label", "experiment", "status", "created_at"]
    list_filter = ["status", "experiment"]
    search_fields = ["join_code", "label"]
    readonly_fields = ["join_code", "declined_count", "created_at"]


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    can_delete = False
    readonly_fields = ["threat", "position", "choice", "answered_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RatingInline(admin.TabularInline):
    model = UsefulnessRating
    extra = 0
    can_delete = False
    readonly_fields = ["source", "value"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ["code", "session", "arm", "stage", "is_simulated", "last_activity_at"]
    list_filter = ["stage", "arm", "is_simulated", "session"]
    search_fields = ["code"]
    list_select_related = ["session", "arm"]
    inlines = [AnswerInline, RatingInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
