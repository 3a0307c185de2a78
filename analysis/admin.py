"""The researchers' analysis and exports (analysis/views.py) as pages of the experiment's admin."""

from django.contrib import admin
from django.urls import path

from analysis import views
from experiment.models import Experiment

# The experiment app's admin, registered before this module is discovered (experiment comes before analysis in
# INSTALLED_APPS). Looked up rather than imported, so that the analysis imports no UI module of the experiment app.
ExperimentAdmin = type(admin.site.get_model_admin(Experiment))


class ExperimentAnalysisAdmin(ExperimentAdmin):
    """The experiment's admin with two more pages. Their URL names are the experiment admin's
    (``admin:experiment_experiment_analysis``, ``admin:experiment_experiment_export``): templates reverse them."""

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/analysis/", wrap(views.analysis), name="experiment_experiment_analysis"),
            path("<int:pk>/export/<str:name>", wrap(views.export), name="experiment_experiment_export"),
            *super().get_urls(),
        ]


# Registered here rather than in experiment/admin.py, so that the experiment app imports nothing from the analysis.
admin.site.unregister(Experiment)
admin.site.register(Experiment, ExperimentAnalysisAdmin)
