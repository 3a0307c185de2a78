from django import forms
from django.utils.translation import gettext_lazy as _

from analysis import report
from analysis.dataset import Filters, strata_of
from experiment.models import Arm, Experiment, LabSession


class AnalysisFilterForm(forms.Form):
    """Which participants the analysis and the exports cover. Read from the query string (GET)."""

    # Checkboxes, not a multiple select: that needs Ctrl-click, which nothing on the page would tell.
    sessions = forms.ModelMultipleChoiceField(
        queryset=LabSession.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("Sessions"),
        help_text=_("None selected: every session."),
    )
    arms = forms.ModelMultipleChoiceField(
        queryset=Arm.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("Arms"),
        help_text=_("None selected: every arm."),
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

    def __init__(self, experiment: Experiment, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sessions"].queryset = experiment.sessions.order_by("-created_at")
        self.fields["arms"].queryset = experiment.arms.order_by("position")
        self.fields["stratum"].choices = [("", _("all strata")), *((s, s) for s in strata_of(experiment))]
        outcomes = report.METRICS + [report.CONFIDENCE]
        self.fields["plan_outcome"] = forms.ChoiceField(
            required=False,
            choices=[("", _("do not plan")), *((key, label) for key, label, _better in outcomes)],
            label=_("Plan the next study for"),
            help_text=_("Simulates studies from these data: takes a few seconds."),
        )
        self.fields["plan_n"] = forms.IntegerField(
            required=False, min_value=2, max_value=2000, initial=30, label=_("Participants per arm")
        )
        self.fields["plan_shift"] = forms.FloatField(
            required=False,
            min_value=-1_000_000,
            max_value=1_000_000,
            label=_("Stated effect"),
            help_text=_(
                "Empty: the effect observed. A number: added to the first arm's values, kept within the outcome's "
                "range."
            ),
        )
        # One equivalence margin per outcome, in its units; empty keeps the experiment's declared one (or none).
        declared = experiment.equivalence_margins
        for key, label, _better in report.METRICS + [report.CONFIDENCE]:
            self.fields[f"margin_{key}"] = forms.FloatField(
                required=False,
                min_value=0.000001,
                max_value=1_000_000,
                label=_("Equivalence margin: %(outcome)s") % {"outcome": label},
                help_text=_("Declared: %(margin)s. Empty keeps it.") % {"margin": declared[key]["margin"]}
                if key in declared
                else _("None declared, so no equivalence test. Empty keeps it so."),
            )

    def planning(self) -> dict | None:
        """What to plan the next study for (report.plan_next_study's arguments), or None."""
        if not self.cleaned_data.get("plan_outcome"):
            return None
        return {
            "key": self.cleaned_data["plan_outcome"],
            "n_per_arm": self.cleaned_data.get("plan_n") or 30,
            "shift": self.cleaned_data.get("plan_shift"),
        }

    def filters(self) -> Filters:
        return Filters(
            session_ids=tuple(s.pk for s in self.cleaned_data["sessions"]),
            arm_ids=tuple(a.pk for a in self.cleaned_data["arms"]),
            include_simulated=self.cleaned_data["include_simulated"],
            include_incomplete=self.cleaned_data["include_incomplete"],
            exclude_fast=self.cleaned_data["exclude_fast"],
            stratum=self.cleaned_data["stratum"] or None,
        )

    def margins(self) -> dict[str, float]:
        """The equivalence margins set here, by outcome (report.build's overrides)."""
        return {
            name.removeprefix("margin_"): value
            for name, value in self.cleaned_data.items()
            if name.startswith("margin_") and value is not None
        }
