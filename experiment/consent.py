"""What a student consents to: the version and statements of their experiment's information sheet, and the record
of what they agreed to.

The sheet's statements are read once per content key (experiment/content.py) as plain data, because every consent
page of a class arriving at once would otherwise read them again; the sheet's text itself is a cached block of the
consent page.
"""

from dataclasses import dataclass

from experiment.content import kept
from experiment.models import ConsentStatement, Experiment, InformationSheet


@dataclass(frozen=True)
class Statement:
    key: str
    required: bool
    text: str
    translations: dict  # language -> text

    def text_in(self, language: str | None) -> str:
        """The statement in ``language``, or in the default language when it has no translation."""
        language = (language or "").lower()
        return self.translations.get(language) or self.translations.get(language.split("-")[0]) or self.text


@dataclass(frozen=True)
class Sheet:
    version: str
    statements: tuple[Statement, ...]


@dataclass(frozen=True)
class Consent:
    """What one student agreed to: the sheet's version and the keys of the statements they ticked."""

    sheet_version: str
    agreed: tuple[str, ...]


def sheet_of(experiment: Experiment) -> Sheet:
    """The experiment's information sheet's version and consent statements, in order."""

    def read() -> tuple[str, list[tuple]]:
        version = InformationSheet.objects.filter(experiment=experiment).values_list("version", flat=True).get()
        rows = ConsentStatement.objects.filter(sheet__experiment=experiment).order_by("position")
        return version, [
            (key, required, text, {language: parts["text"] for language, parts in tr.items() if parts.get("text")})
            for key, required, text, tr in rows.values_list("key", "required", "text", "translations")
        ]

    version, statements = kept(experiment.content_key, "consent-sheet", read)
    return Sheet(version, tuple(Statement(*row) for row in statements))


def agreeing_to_all(experiment: Experiment) -> Consent:
    """Consent to every statement of the experiment's sheet: what a simulated participant, or a test, gives."""
    sheet = sheet_of(experiment)
    return Consent(sheet.version, tuple(s.key for s in sheet.statements))
