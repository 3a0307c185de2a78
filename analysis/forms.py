from django import forms
from django.utils.translation import gettext_lazy as _

from analysis.dataset import Filters, strata_of
from experiment.models import Arm, Experiment, LabSession


class AnalysisFilterForm(forms.Form):
    """Which participants the analysis and the exports cover. Read from the query string (GET)."""

    sessions = forms.ModelMultipleChoiceField(
        queryset=LabSession.objects.none(),
        required=False,
        label=_("Sessions"),
        help_text=_("None selected: every session."),
    )
    arms = forms.ModelMultipleChoiceField(
        queryset=Arm.objects.none(), required=False, label=_("Arms"), help_text=_("None selected: every arm.")
    )
    include_simulated = forms.BooleanField(
        required=False, label=_("Include simulated"), help_text=_("Count bots from rehearsals and simulations.")
    )
    include_incomplete = forms.BooleanField(
        required=False, label=_("Include incomplete"), help_text=_("Count participants who did not finish.")
    )
    exclude_fast = forms.BooleanField(
        required=False,
        label=_("Exclude fast"),
        help_text=_("Leave out participants who answered the threats implausibly fast."),
    )
    stratum = forms.ChoiceField(
        required=False, label=_("Stratum"), help_text=_("Only one randomisation stratum (all when empty).")
    )
    tost_margin = forms.FloatField(
        initial=1.0,
        min_value=0.01,
        max_value=100,
        required=False,
        label=_("TOST margin"),
        help_text=_("Equivalence margin for the TOST, in the metric's units (the original study used 1)."),
    )

    def __init__(self, experiment: Experiment, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sessions"].queryset = experiment.sessions.order_by("-created_at")
        self.fields["arms"].queryset = experiment.arms.order_by("position")
        self.fields["stratum"].choices = [("", _("all strata")), *((s, s) for s in strata_of(experiment))]

    def filters(self) -> Filters:
        return Filters(
            session_ids=tuple(s.pk for s in self.cleaned_data["sessions"]),
            arm_ids=tuple(a.pk for a in self.cleaned_data["arms"]),
            include_simulated=self.cleaned_data["include_simulated"],
            include_incomplete=self.cleaned_data["include_incomplete"],
            exclude_fast=self.cleaned_data["exclude_fast"],
            stratum=self.cleaned_data["stratum"] or None,
        )

    def margin(self) -> float:
        return self.cleaned_data.get("tost_margin") or 1.0
