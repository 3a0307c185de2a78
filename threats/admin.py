from django.contrib import admin

from experiment.admin import ContentAdmin
from threats.forms import MaterialSectionForm, ScenarioForm
from threats.models import Diagram, MaterialSection, Scenario, Threat


class MaterialSectionInline(admin.StackedInline):
    model = MaterialSection
    form = MaterialSectionForm
    extra = 0


class DiagramInline(admin.StackedInline):
    model = Diagram
    extra = 0


class ThreatInline(admin.StackedInline):
    model = Threat
    extra = 0


@admin.register(Scenario)
class ScenarioAdmin(ContentAdmin):
    form = ScenarioForm
    experiments_lookup = "scenario"
    list_display = ["title", "slug"]
    search_fields = ["title", "slug"]
    inlines = [MaterialSectionInline, DiagramInline, ThreatInline]


@admin.register(Threat)
class ThreatAdmin(ContentAdmin):
    experiments_lookup = "scenario__threats"
    list_display = ["ref", "scenario", "stride", "is_real"]
    list_filter = ["scenario", "stride", "is_real"]
    search_fields = ["ref", "title", "description"]
