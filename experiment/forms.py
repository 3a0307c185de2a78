"""Forms of the student flow. They validate and normalise; the services write."""

import re
import uuid

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from experiment import bounded_json
from experiment.codes import normalise_join_code, participant_code_or_none
from experiment.consent import Consent, Sheet
from experiment.models import Choice, ItemKind, LabSession, Participant, QuestionnaireItem
from experiment.services.participation import Response
from experiment.sources import Source
from threats.models import Threat

LIKERT_LABELS = {
    1: _("1 useless"),
    2: _("2 somewhat useful"),
    3: _("3 useful"),
    4: _("4 very useful"),
    5: _("5 very useful, could not do without"),
}


class Radios(forms.RadioSelect):
    """Django's RadioSelect, each choice written as a Bootstrap form-check (templates/widgets/)."""

    template_name = "widgets/radios.html"
    option_template_name = "widgets/radio_option.html"
    inline = False

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["inline"] = self.inline
        return context


class InlineRadios(Radios):
    """Choices side by side: a scale reads left to right."""

    inline = True


def _code_input() -> forms.TextInput:
    """A box for a code read off a screen or a slip: no autofill, capitals on phones, no spelling marks."""
    return forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})


class JoinForm(forms.Form):
    code = forms.CharField(
        label=_("Session code"),
        max_length=20,
        help_text=_("The code your instructor shows, e.g. ACDE3479."),
        widget=_code_input(),
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
    """The participant code typed on the start page: the short one from the footer (7KQM-X3PD-RW9, with or without
    dashes, any case) or the UUID of the page addresses."""

    participant_code = forms.CharField(
        label=_("Participant code"),
        max_length=60,
        help_text=_("The code shown at the bottom of every page of the lab, e.g. 7KQM-X3PD-RW9."),
        widget=_code_input(),
    )

    def clean_participant_code(self) -> Participant:
        raw = self.cleaned_data["participant_code"]
        short_code = participant_code_or_none(raw)
        if short_code is not None:
            found = Participant.objects.filter(short_code=short_code)
        else:
            try:
                found = Participant.objects.filter(code=uuid.UUID(raw.strip()))
            except ValueError:
                raise forms.ValidationError(
                    _("That is not a participant code. It looks like 7KQM-X3PD-RW9: 11 letters and digits.")
                ) from None
        participant = found.first()
        if participant is None:
            raise forms.ValidationError(_("No participant has this code. Check it and try again."))
        # The UUID stands in every page address, so a shared computer's history holds it: only the short code
        # proves that the person typing it is the participant (it unlocks a finished participant's completion code).
        self.proves_owner = short_code is not None
        return participant


class UnlockForm(forms.Form):
    """The participant code that shows a finished participant's completion code again."""

    participant_code = forms.CharField(
        label=_("Participant code"),
        max_length=60,
        help_text=_("The code shown at the bottom of every page while you took the lab, e.g. 7KQM-X3PD-RW9."),
        widget=_code_input(),
    )

    def __init__(self, participant: Participant, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.participant = participant

    def clean_participant_code(self) -> str:
        if participant_code_or_none(self.cleaned_data["participant_code"]) != self.participant.short_code:
            raise forms.ValidationError(_("That is not the participant code of this page. Check it and try again."))
        return self.participant.short_code


class ReturningForm(forms.Form):
    """A browser that holds an unfinished participant: go on as them, or start as a new student."""

    choice = forms.ChoiceField(
        choices=[("continue", _("Continue")), ("new", _("Start as a new student"))],
        error_messages={
            "required": _("Choose whether to continue or to start as a new student."),
            "invalid_choice": _("Choose whether to continue or to start as a new student."),
        },
    )


def statement_field_name(key: str) -> str:
    return f"statement_{key}"


class ConsentForm(forms.Form):
    """The decision, and a checkbox per consent statement of the sheet. Consenting needs every required statement
    ticked; declining needs none."""

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

    def __init__(self, sheet: Sheet, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sheet = sheet
        language = get_language()
        for statement in sheet.statements:
            # Not required to the field: a student who declines ticks nothing. ``clean`` asks it of consent.
            self.fields[statement_field_name(statement.key)] = forms.BooleanField(
                label=statement.text_in(language),
                required=False,
                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
            )

    def statements(self) -> list[tuple[forms.BoundField, bool]]:
        """Each statement's checkbox, and whether consent needs it, in the sheet's order."""
        return [(self[statement_field_name(s.key)], s.required) for s in self.sheet.statements]

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("decision") == "consent":
            for statement in self.sheet.statements:
                name = statement_field_name(statement.key)
                if statement.required and not cleaned.get(name):
                    self.add_error(name, _("Tick this statement to take part, or choose “I do not agree”."))
        return cleaned

    def consent(self) -> Consent:
        """What the student agreed to: the sheet's version and the statements ticked."""
        agreed = tuple(s.key for s in self.sheet.statements if self.cleaned_data.get(statement_field_name(s.key)))
        return Consent(self.sheet.version, agreed)


def threat_field_name(threat: Threat) -> str:
    return f"threat_{threat.pk}"


def confidence_field_name(threat: Threat) -> str:
    return f"confidence_{threat.pk}"


CONFIDENCE_LABELS = [(1, _("1 not at all sure")), (2, "2"), (3, "3"), (4, "4"), (5, _("5 completely sure"))]
_EXPOSURE_KEY = re.compile(r"^[a-z0-9_-]{1,60}$")
MAX_EXPOSURE_SECONDS = 24 * 3600


class ExposureField(forms.CharField):
    """Seconds pages and diagrams were in view, as the browser measured them: {"page": 312.4, "diagram_dfd": 80}.

    Empty when the browser ran no script; anything else malformed means the form was altered.
    """

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, max_length=2000, **kwargs)

    def clean(self, value) -> dict[str, float]:
        raw = super().clean(value)
        if not raw:
            return {}
        altered = forms.ValidationError(_("The form was altered. Reload the page; your earlier answers are kept."))
        try:
            # One level: an object of numbers. Deeper nesting is refused before the parser recurses into it.
            data = bounded_json.loads(raw, max_depth=1)
        except ValueError:
            raise altered from None
        if not isinstance(data, dict) or len(data) > 20:
            raise altered
        for key, seconds in data.items():
            if not _EXPOSURE_KEY.match(key) or isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise altered
            if not 0 <= seconds <= MAX_EXPOSURE_SECONDS:
                raise altered
        return {key: round(float(seconds), 1) for key, seconds in data.items()}


class TrainingForm(forms.Form):
    exposure = ExposureField()


class ShownThreatsForm(forms.Form):
    """The threats page's own fields: the order its threats were shown in, and the seconds spent on it."""

    shown_order = forms.CharField(widget=forms.HiddenInput)
    exposure = ExposureField()

    def __init__(self, threat_ids: list[int], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected_order = ",".join(str(threat_id) for threat_id in threat_ids)
        self.fields["shown_order"].initial = self.expected_order

    def clean_shown_order(self) -> str:
        if self.cleaned_data["shown_order"] != self.expected_order:
            raise forms.ValidationError(_("The form was altered. Reload the page; your earlier answers are kept."))
        return self.cleaned_data["shown_order"]


class ThreatAnswersForm(ShownThreatsForm):
    """One explicit applicable / not applicable choice per threat, in the participant's stored order."""

    def __init__(self, threats: list[Threat], *args, ask_confidence: bool = False, **kwargs):
        super().__init__([threat.pk for threat in threats], *args, **kwargs)
        self.threats = threats
        self.ask_confidence = ask_confidence
        # In the participant's order, so that errors are listed in the order the threats are shown, each named by
        # its number and title as its card is (the reference ID is for researchers).
        for number, threat in enumerate(threats, start=1):
            named = {"number": number, "title": threat.tr("title")}
            message = _("Choose applicable or not applicable for threat %(number)d, %(title)s.") % named
            self.fields[threat_field_name(threat)] = forms.ChoiceField(
                label=threat.tr("title"),
                choices=Choice.choices,
                widget=InlineRadios,
                error_messages={"required": message, "invalid_choice": message},
            )
            if ask_confidence:
                message = _("Rate how sure you are about threat %(number)d, %(title)s, from 1 to 5.") % named
                self.fields[confidence_field_name(threat)] = forms.TypedChoiceField(
                    label=_("How sure are you?"),
                    choices=CONFIDENCE_LABELS,
                    coerce=int,
                    widget=InlineRadios,
                    error_messages={"required": message, "invalid_choice": message},
                )

    def clean(self):
        cleaned = super().clean()
        expected = {threat_field_name(t) for t in self.threats} | {confidence_field_name(t) for t in self.threats}
        foreign = sorted(k for k in self.data if k.startswith(("threat_", "confidence_")) and k not in expected)
        if foreign:
            raise forms.ValidationError(_("The form held an answer for a threat that is not in your list."))
        return cleaned

    def answers(self) -> list[tuple[Threat, int, str, int | None]]:
        return [
            (
                threat,
                position,
                self.cleaned_data[threat_field_name(threat)],
                self.cleaned_data.get(confidence_field_name(threat)),
            )
            for position, threat in enumerate(self.threats, start=1)
        ]

    def answered(self) -> int:
        """How many threats the sent data answers: the page's counter starts there ("7 of 10 answered")."""
        return sum(self.data.get(threat_field_name(threat)) in Choice.values for threat in self.threats)

    def bound_fields_of(self, threat: Threat) -> tuple[forms.BoundField, forms.BoundField | None]:
        """The threat's choice and, when asked, its confidence, as bound fields."""
        confidence = self[confidence_field_name(threat)] if self.ask_confidence else None
        return self[threat_field_name(threat)], confidence

    def bound_threats(self):
        return [(threat, *self.bound_fields_of(threat)) for threat in self.threats]


def rating_field_name(source: Source) -> str:
    return f"rating_{source.key}"


class UsefulnessForm(forms.Form):
    """The original's usefulness item: one 1..5 row per information source, and an optional comment."""

    comment = forms.CharField(
        label=_("Any comment on the lab (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )

    def __init__(self, sources: list[Source], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sources = sources
        # The rating rows go before the comment, as the page shows them.
        comment = self.fields.pop("comment")
        for source in sources:
            message = _("Rate %(source)s from 1 to 5.") % {"source": source.label}
            self.fields[rating_field_name(source)] = forms.TypedChoiceField(
                label=source.label,
                choices=list(LIKERT_LABELS.items()),
                coerce=int,
                widget=InlineRadios,
                error_messages={"required": message, "invalid_choice": message},
            )
        self.fields["comment"] = comment

    def ratings(self) -> dict[str, int]:
        return {source.key: self.cleaned_data[rating_field_name(source)] for source in self.sources}

    def bound_sources(self):
        return [(source, self[rating_field_name(source)]) for source in self.sources]


def item_field_names(item: QuestionnaireItem) -> list[tuple[str, str, str]]:
    """(field name, row key, row label) for each answer an item takes: one per Likert row, else one."""
    if item.kind == ItemKind.LIKERT_ROWS:
        return [(f"{item.key}__{row['key']}", row["key"], row["label"]) for row in item.rows]
    return [(item.key, "", "")]


class QuestionnaireForm(forms.Form):
    """An entry or exit questionnaire built from its items; every answer is stored as text."""

    def __init__(self, items: list[QuestionnaireItem], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            options = item.choice_options()
            labels = item.tr("option_labels") if item.options else None
            choices = [(str(o["value"]), (labels or {}).get(str(o["value"]), o["label"])) for o in options]
            text = item.tr("text")
            row_labels = item.tr("row_labels") or {}
            for name, row, label in item_field_names(item):
                label = row_labels.get(row, label) if row else label
                if item.kind == ItemKind.FREE_TEXT:
                    field = forms.CharField(
                        label=text,
                        required=item.required,
                        max_length=2000,
                        widget=forms.Textarea({"rows": 3, "class": "form-control"}),
                    )
                else:
                    message = _("Choose an answer for: %(question)s") % {"question": label or text}
                    field = forms.ChoiceField(
                        label=label or text,
                        choices=choices,
                        required=item.required,
                        widget=InlineRadios if item.kind == ItemKind.LIKERT_ROWS else Radios,
                        error_messages={"required": message, "invalid_choice": message},
                    )
                self.fields[name] = field

    def responses(self) -> list[Response]:
        return [
            Response(item.pk, row, self.cleaned_data.get(name) or "")
            for item in self.items
            for name, row, _label in item_field_names(item)
            if self.cleaned_data.get(name) not in (None, "")
        ]

    def bound_items(self):
        return [
            (item, [(self[name], self.fields[name].label) for name, _row, _label in item_field_names(item)])
            for item in self.items
        ]
