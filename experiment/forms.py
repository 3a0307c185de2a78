"""Forms of the student flow. They validate and normalise; the services write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from experiment.codes import normalise_join_code
from experiment.models import Choice, LabSession
from experiment.sources import Source
from threats.models import Threat

LIKERT_LABELS = {
    1: _("1 useless"),
    2: _("2 somewhat useful"),
    3: _("3 useful"),
    4: _("4 very useful"),
    5: _("5 very useful, could not do without"),
}


class JoinForm(forms.Form):
    code = forms.CharField(
        label=_("Session code"),
        max_length=20,
        help_text=_("The code your instructor shows, e.g. ACDE3479."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )

    def clean_code(self) -> LabSession:
        code = normalise_join_code(self.cleaned_data["code"])
        session = LabSession.objects.filter(join_code=code).first()
        if session is None:
            raise forms.ValidationError(
                _("No lab session has the code %(code)s. Check it and try again."), params={"code": code}
            )
        return session


class ResumeForm(forms.Form):
    participant_code = forms.UUIDField(
        label=_("Participant code"),
        help_text=_("The code shown at the bottom of every page of the lab."),
        error_messages={"invalid": _("That is not a participant code. It looks like 8-4-4-4-12 letters and digits.")},
    )


class ConsentForm(forms.Form):
    entry_token = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={"invalid": _("The form was altered. Reload the page and try again.")},
    )
    decision = forms.ChoiceField(
        choices=[("consent", _("I agree to take part")), ("decline", _("I do not agree"))],
        error_messages={
            "required": _("Choose whether you agree to take part."),
            "invalid_choice": _("Choose whether you agree to take part."),
        },
    )


def threat_field_name(threat: Threat) -> str:
    return f"threat_{threat.pk}"


class ThreatAnswersForm(forms.Form):
    """One explicit applicable / not applicable choice per threat, in the participant's stored order."""

    shown_order = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, threats: list[Threat], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.threats = threats
        self.expected_order = ",".join(str(t.pk) for t in threats)
        self.fields["shown_order"].initial = self.expected_order
        for threat in threats:
            self.fields[threat_field_name(threat)] = forms.ChoiceField(
                label=threat.ref,
                choices=Choice.choices,
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Choose applicable or not applicable for %(ref)s.") % {"ref": threat.ref},
                    "invalid_choice": _("Choose applicable or not applicable for %(ref)s.") % {"ref": threat.ref},
                },
            )

    def clean_shown_order(self) -> str:
        if self.cleaned_data["shown_order"] != self.expected_order:
            raise forms.ValidationError(_("The form was altered. Reload the page; your earlier answers are kept."))
        return self.cleaned_data["shown_order"]

    def clean(self):
        cleaned = super().clean()
        expected = {threat_field_name(t) for t in self.threats}
        foreign = sorted(k for k in self.data if k.startswith("threat_") and k not in expected)
        if foreign:
            raise forms.ValidationError(_("The form held an answer for a threat that is not in your list."))
        return cleaned

    def answers(self) -> list[tuple[Threat, int, str]]:
        return [
            (threat, position, self.cleaned_data[threat_field_name(threat)])
            for position, threat in enumerate(self.threats, start=1)
        ]

    def bound_threats(self):
        return [(threat, self[threat_field_name(threat)]) for threat in self.threats]


def rating_field_name(source: Source) -> str:
    return f"rating_{source.key}"


class UsefulnessForm(forms.Form):
    """The original's usefulness item: one 1..5 row per information source, and an optional comment."""

    comment = forms.CharField(
        label=_("Any comment on the lab (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, sources: list[Source], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sources = sources
        for source in sources:
            message = _("Rate %(source)s from 1 to 5.") % {"source": source.label}
            self.fields[rating_field_name(source)] = forms.TypedChoiceField(
                label=source.label,
                choices=list(LIKERT_LABELS.items()),
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": message, "invalid_choice": message},
            )

    def ratings(self) -> dict[str, int]:
        return {source.key: self.cleaned_data[rating_field_name(source)] for source in self.sources}

    def bound_sources(self):
        return [(source, self[rating_field_name(source)]) for source in self.sources]
