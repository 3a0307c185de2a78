"""Admin forms of the content participants read: the HTML fields are cleaned as a loaded definition's are."""

from django import forms
from django.utils.translation import gettext_lazy as _

from threats.html import clean_html, clean_translations, is_safe_link
from threats.models import MaterialSection, Scenario


class ScenarioForm(forms.ModelForm):
    class Meta:
        model = Scenario
        fields = ["slug", "title", "task_html", "translations"]

    def clean_task_html(self) -> str:
        return clean_html(self.cleaned_data["task_html"])

    def clean_translations(self):
        return clean_translations(self.cleaned_data["translations"], ["task_html"])


class MaterialSectionForm(forms.ModelForm):
    class Meta:
        model = MaterialSection
        fields = ["scenario", "position", "title", "body_html", "video_url", "translations"]

    def clean_video_url(self) -> str:
        url = self.cleaned_data["video_url"]
        if url and not is_safe_link(url):
            raise forms.ValidationError(_("Use an http(s) address or a path on this site (/...)."))
        return url

    def clean_body_html(self) -> str:
        return clean_html(self.cleaned_data["body_html"])

    def clean_translations(self):
        return clean_translations(self.cleaned_data["translations"], ["body_html"])
