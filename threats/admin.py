from django.contrib import admin

from threats.models import Diagram, MaterialSection, Scenario, Threat


class MaterialSectionInline(admin.StackedInline):
    model = MaterialSection
    extra = 0


class DiagramInline(admin.StackedInline):
    model = Diagram
    extra = 0


class ThreatInline(admin.StackedInline):
    model = Threat
    extra = 0


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    list_display = ["title", "slug"]
    search_fields = ["title", "slug"]
    inlines = [MaterialSectionInline, DiagramInline, ThreatInline]


@admin.register(Threat)
class ThreatAdmin(admin.ModelAdmin):
    list_display = ["ref", "scenario", "stride", "is_real"]
    list_filter = ["scenario", "stride", "is_real"]
    search_fields = ["ref", "title", "description"]
