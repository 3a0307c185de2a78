"""Several languages in one definition file.

Any text a participant reads may be written either as plain text or as ``{"en": "...", "nl": "...", "zh-hans":
"..."}``. Splitting keeps the default language's text in the field and moves the others into the object's
``translations`` (``{"nl": {"title": "..."}}``), which is what the models store; joining does the reverse for dumps.
A Likert option's or row's label may be translated the same way; it is kept as ``option_labels``/``row_labels``.
"""

import json
from typing import Any

from django.conf import settings

# Where translatable fields live: the path of objects in the file, and their fields.
FIELDS = {
    ("experiment",): ("title", "participant_title", "debrief_html"),
    ("experiment", "information_sheet"): (
        "researchers",
        "institution",
        "contact",
        "ethics_approval",
        "duration",
        "voluntariness",
        "data_use",
    ),
    ("experiment", "information_sheet", "statements"): ("text",),
    ("scenario",): ("title", "task_html"),
    ("scenario", "sections"): ("title", "body_html"),
    ("scenario", "diagrams"): ("title", "text_alternative"),
    ("scenario", "threats"): ("title", "description", "assumptions", "affected_components", "rationale"),
    ("experiment", "questionnaires"): ("title", "intro"),
    ("experiment", "questionnaires", "items"): ("text",),
}
LABELS = {"options": ("value", "option_labels"), "rows": ("key", "row_labels")}


def _languages() -> tuple[str, set[str]]:
    return settings.LANGUAGE_CODE, {code for code, _name in settings.LANGUAGES}


def objects(data: dict, path: tuple[str, ...], where: str = ""):
    """Every (object, place) at ``path``: lists are walked, objects entered."""
    if not path:
        yield data, where
        return
    head, rest = path[0], path[1:]
    value = data.get(head) if isinstance(data, dict) else None
    here = f"{where}.{head}" if where else head
    if isinstance(value, dict):
        yield from objects(value, rest, here)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict):
                yield from objects(item, rest, f"{here}[{i}]")


def _split_value(value: Any, where: str, problems: list[str]) -> tuple[Any, dict[str, Any]]:
    default, known = _languages()
    if not isinstance(value, dict):
        return value, {}
    unknown = sorted(set(value) - known)
    if unknown:
        problems.append(f"{where}: unknown language(s) {', '.join(unknown)}; use {', '.join(sorted(known))}")
    if default not in value:
        problems.append(f"{where}: a translated text needs the default language {json.dumps(default)}")
        return None, {}
    for language, text in value.items():
        if type(text) is not type(value[default]):
            problems.append(f"{where}.{language}: must be the same kind of value as {json.dumps(default)}")
    return value[default], {k: v for k, v in value.items() if k != default and k in known}


def split(data: dict, problems: list[str]) -> None:
    """Move translations out of the fields into each object's ``translations``, in place; problems are appended."""
    for path, fields in FIELDS.items():
        for obj, where in objects(data, path):
            translations: dict[str, dict] = {}
            for field in fields:
                if field in obj:
                    obj[field], others = _split_value(obj[field], f"{where}.{field}", problems)
                    for language, text in others.items():
                        translations.setdefault(language, {})[field] = text
            for key, (id_key, target) in LABELS.items():
                for i, entry in enumerate(obj.get(key) or []):
                    if isinstance(entry, dict) and "label" in entry:
                        here = f"{where}.{key}[{i}].label"
                        entry["label"], others = _split_value(entry["label"], here, problems)
                        for language, text in others.items():
                            translations.setdefault(language, {}).setdefault(target, {})[str(entry.get(id_key))] = text
            if translations:
                obj["translations"] = translations


def join(obj: dict, translations: dict, fields: tuple[str, ...]) -> dict:
    """The reverse of split for one dumped object: translated fields become ``{"en": ..., "nl": ...}``."""
    default, _known = _languages()
    for field in fields:
        texts = {language: parts[field] for language, parts in translations.items() if field in parts}
        if texts:
            obj[field] = {default: obj[field], **texts}
    for key, (id_key, target) in LABELS.items():
        for entry in obj.get(key) or []:
            texts = {
                language: parts[target][str(entry[id_key])]
                for language, parts in translations.items()
                if str(entry[id_key]) in parts.get(target, {})
            }
            if texts:
                entry["label"] = {default: entry["label"], **texts}
    return obj
