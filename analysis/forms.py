from django import forms

from analysis.dataset import Filters
from experiment.models import Experiment, LabSession


class AnalysisFilterForm(forms.Form):
    """Which participants the analysis and the exports cover. Read from the query string (GET)."""

    sessions = forms.ModelMultipleChoiceField(
        queryset=LabSession.objects.none(), required=False, help_text="None selected: every session."
    )
    include_simulated = forms.BooleanField(required=False, help_text="Count bots from rehearsals and simulations.")
    include_incomplete = forms.BooleanField(required=False, help_text="Count participants who did not finish.")
    tost_margin = forms.FloatField(
        initial=1.0,
        min_value=0.01,
        max_value=100,
        required=False,
        help_text="Equivalence margin for the TOST, in the metric's units (the original study used 1).",
    )

    def __init__(self, experiment: Experiment, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sessions"].queryset = experiment.sessions.order_by("-created_at")

    def filters(self) -> Filters:
        return Filters(
            session_ids=tuple(s.pk for s in self.cleaned_data["sessions"]),
            include_simulated=self.cleaned_data["include_simulated"],
            include_incomplete=self.cleaned_data["include_incomplete"],
        )

    def margin(self) -> float:
        return self.cleaned_data.get("tost_margin") or 1.0
