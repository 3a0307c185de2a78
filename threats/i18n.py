"""Experiment content in several languages: a model's ``translations`` field holds, per language, the fields
that differ from the default-language text stored in the model itself."""

from typing import Any

from django.db import models
from django.utils.translation import get_language


class Translatable(models.Model):
    translations = models.JSONField(
        default=dict, blank=True, help_text='Per language, the translated fields: {"nl": {"title": "..."}}.'
    )

    class Meta:
        abstract = True

    def tr(self, field: str) -> Any:
        """The field in the active language, falling back to the default text when it has no translation.

        Translations may also carry parts with no field of their own (a questionnaire item's ``option_labels``):
        those fall back to None.
        """
        language = (get_language() or "").lower()
        for code in (language, language.split("-")[0]):
            value = self.translations.get(code, {}).get(field)
            if value:
                return value
        return getattr(self, field, None)
