"""Blinding: no participant reads the name of a diagram that their arm does not get.

Each diagram declares the terms that name it, per language (``"terms": {"en": ["DFD", "data flow diagram"], ...}``).
``leaks`` looks for every term of every diagram in every text a participant reads, in every language, and reports
each place where a text names a diagram to an arm that does not get it: text every arm reads must name only
diagrams that every arm gets, and a diagram's own text (its title, text alternative and SVG, read by the arms that
get it) only diagrams that all of those arms get too.

HTML and SVG are read as a participant meets them: their visible text and the attributes that are read out or shown
(alt, title, aria-label). Terms match case-insensitively on word boundaries, so "DFD" is not found inside another
word; terms in scripts written without spaces (数据流图) match wherever they occur.
"""

import enum
import re
from collections.abc import Iterator
from html.parser import HTMLParser

from django.conf import settings

from experiment.definition.translations import objects


class Shown(enum.Enum):
    """When, and to whom, a participant-facing text is shown."""

    EVERY_ARM = "every arm"
    ARMS_WITH_THE_DIAGRAM = "the arms that get the diagram it belongs to"
    # Read once the lab is over (a debrief, feedback against the answer key): it may name every diagram.
    AFTER_THE_LAB = "after the lab"


# Every text in a definition that participants read, by the path of its objects and its field. Fields not listed are
# never shown to a participant: the experiment's research title and description, arm names and slugs. A threat's
# rationale and source are shown with the feedback, after the lab. ``options`` and ``rows`` stand for the labels of
# a questionnaire item's options and rows.
PLACES: dict[tuple[str, ...], dict[str, Shown]] = {
    ("experiment",): {"participant_title": Shown.EVERY_ARM, "debrief_html": Shown.AFTER_THE_LAB},
    # Read on the consent page, before the arm is drawn.
    ("experiment", "information_sheet"): {
        "researchers": Shown.EVERY_ARM,
        "institution": Shown.EVERY_ARM,
        "contact": Shown.EVERY_ARM,
        "ethics_approval": Shown.EVERY_ARM,
        "duration": Shown.EVERY_ARM,
        "voluntariness": Shown.EVERY_ARM,
        "data_use": Shown.EVERY_ARM,
    },
    ("experiment", "information_sheet", "statements"): {"text": Shown.EVERY_ARM},
    ("scenario",): {"title": Shown.EVERY_ARM, "task_html": Shown.EVERY_ARM},
    ("scenario", "sections"): {"title": Shown.EVERY_ARM, "body_html": Shown.EVERY_ARM},
    ("scenario", "diagrams"): {
        "title": Shown.ARMS_WITH_THE_DIAGRAM,
        "text_alternative": Shown.ARMS_WITH_THE_DIAGRAM,
        "svg": Shown.ARMS_WITH_THE_DIAGRAM,
    },
    ("scenario", "threats"): {
        "ref": Shown.EVERY_ARM,
        "title": Shown.EVERY_ARM,
        "description": Shown.EVERY_ARM,
        "assumptions": Shown.EVERY_ARM,
        "affected_components": Shown.EVERY_ARM,
        "rationale": Shown.AFTER_THE_LAB,
        "source": Shown.AFTER_THE_LAB,
    },
    ("experiment", "questionnaires"): {"title": Shown.EVERY_ARM, "intro": Shown.EVERY_ARM},
    ("experiment", "questionnaires", "items"): {
        "text": Shown.EVERY_ARM,
        "options": Shown.EVERY_ARM,
        "rows": Shown.EVERY_ARM,
    },
}
# Where the translations of an option's or a row's label are kept (experiment/definition/translations.py).
_LABELS = {"options": ("value", "option_labels"), "rows": ("key", "row_labels")}

# The terms a diagram of each kind gets when its definition declares none (definitions of schema version 1).
DEFAULT_TERMS: dict[str, dict[str, list[str]]] = {
    "dfd": {
        "en": ["DFD", "DFDs", "data flow diagram", "data flow diagrams", "data-flow diagram", "dataflow diagram"],
        "nl": ["DFD", "DFD's", "dataflowdiagram", "gegevensstroomdiagram", "datastroomdiagram"],
        "zh-hans": ["DFD", "数据流图", "数据流程图"],
    },
    "sequence": {
        "en": ["sequence diagram", "sequence diagrams"],
        "nl": ["sequentiediagram", "sequentiediagrammen", "volgordediagram"],
        "zh-hans": ["时序图", "序列图", "顺序图"],
    },
    "other": {},
}

# Scripts written without spaces between words: a term in them has no word boundary to match on.
_UNSPACED = "\u2e80-\u9fff\u3040-\u30ff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
# A letter or digit of a spaced script: a term must not touch one, so that "DFD" is not found in "DFDX".
_WORD = rf"[^\W{_UNSPACED}]"


def pattern_of(terms: list[str]) -> re.Pattern | None:
    """What finds any of ``terms`` in a text: case-insensitive, on word boundaries, any spacing between words."""
    parts = []
    for term in sorted({t.strip() for t in terms if t.strip()}, key=len, reverse=True):
        body = r"\s+".join(re.escape(word) for word in term.split())
        left = rf"(?<!{_WORD})" if re.match(_WORD, term) else ""
        right = rf"(?!{_WORD})" if re.match(_WORD, term[-1]) else ""
        parts.append(f"{left}{body}{right}")
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


class _ReadText(HTMLParser):
    """What a reader meets in HTML or SVG: the visible text, and the attributes shown or read out."""

    ATTRIBUTES = ("alt", "title", "aria-label", "aria-description", "placeholder")
    HIDDEN = {"style", "script", "template"}
    # Elements that run on inside a line: their text joins the text around them; every other element breaks it.
    INLINE = {
        "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "i", "kbd", "mark", "q", "s", "samp",
        "small", "span", "strong", "sub", "sup", "time", "u", "var", "tspan",
    }  # fmt: skip

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self._hidden += 1
        elif tag not in self.INLINE:
            self.text.append("\n")
        self.attributes += [(name, value) for name, value in attrs if name in self.ATTRIBUTES and value]

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag not in self.INLINE:
            self.text.append("\n")

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


def _readings(field: str, text: str) -> Iterator[tuple[str, str]]:
    """(what, text) a reader meets in a field: plain text as it is; HTML and SVG by their text and attributes."""
    if not (field.endswith("_html") or field == "svg"):
        yield "", text
        return
    reader = _ReadText()
    reader.feed(text)
    reader.close()
    yield "", "".join(reader.text)
    for name, value in reader.attributes:
        yield f", {name} attribute", value


def _texts(obj: dict, field: str, where: str, default: str) -> Iterator[tuple[str, str, str, str]]:
    """(place, language, field, text) of every string of ``field`` in ``obj``, in every language."""
    translations = obj.get("translations") if isinstance(obj.get("translations"), dict) else {}
    languages = [(default, None), *((code, parts) for code, parts in translations.items() if isinstance(parts, dict))]
    if field in _LABELS:
        id_key, target = _LABELS[field]
        entries = obj.get(field)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, dict):
                continue
            for language, parts in languages:
                labels = {"": entry.get("label")} if parts is None else parts.get(target)
                key = "" if parts is None else str(entry.get(id_key))
                label = labels.get(key) if isinstance(labels, dict) else None
                if isinstance(label, str):
                    yield f"{where}.{field}[{i}].label", language, field, label
        return
    for language, parts in languages:
        value = obj.get(field) if parts is None else parts.get(field)
        if isinstance(value, str):
            yield f"{where}.{field}", language, field, value
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, str):
                    yield f"{where}.{field}[{i}]", language, field, item


def _diagram_terms(data: dict) -> dict[str, re.Pattern]:
    """Each diagram's slug and the pattern of all its terms, in every language."""
    scenario = data.get("scenario") if isinstance(data.get("scenario"), dict) else {}
    diagrams = scenario.get("diagrams")
    found = {}
    for diagram in diagrams if isinstance(diagrams, list) else []:
        if not isinstance(diagram, dict) or not isinstance(diagram.get("slug"), str):
            continue
        terms = diagram.get("terms") if isinstance(diagram.get("terms"), dict) else {}
        words = [t for values in terms.values() if isinstance(values, list) for t in values if isinstance(t, str)]
        pattern = pattern_of(words)
        if pattern is not None:
            found[diagram["slug"]] = pattern
    return found


def _arms(data: dict) -> dict[str, set]:
    """Each arm's slug and the slugs of the diagrams it gets."""
    experiment = data.get("experiment") if isinstance(data.get("experiment"), dict) else {}
    listed = experiment.get("arms")
    arms = {}
    for arm in listed if isinstance(listed, list) else []:
        if isinstance(arm, dict) and isinstance(arm.get("slug"), str) and isinstance(arm.get("diagrams"), list):
            arms[arm["slug"]] = {slug for slug in arm["diagrams"] if isinstance(slug, str)}
    return arms


def leaks(data: dict, places: dict[tuple[str, ...], dict[str, Shown]] = PLACES) -> list[str]:
    """Every place where a participant-facing text names a diagram to an arm that does not get it, as problems.

    ``data`` is a definition whose translations are split (translations.split); anything malformed in it is
    skipped (validation reports it). Texts marked ``Shown.AFTER_THE_LAB`` in ``places`` are not checked.
    """
    terms, arms = _diagram_terms(data), _arms(data)
    default = settings.LANGUAGE_CODE
    problems = []
    for path, fields in places.items():
        for obj, where in objects(data, path):
            # A diagram's own texts are read by the arms that get it (``obj`` is the diagram).
            slug = obj.get("slug") if isinstance(obj.get("slug"), str) else None
            with_it = {arm for arm, diagrams in arms.items() if slug in diagrams}
            for field, shown in fields.items():
                if shown is Shown.AFTER_THE_LAB:
                    continue
                readers = with_it if shown is Shown.ARMS_WITH_THE_DIAGRAM else set(arms)
                for place, language, name, text in _texts(obj, field, where, default):
                    for what, reading in _readings(name, text):
                        problems += _named(terms, arms, readers, f"{place} ({language}){what}", reading)
    return problems


def _named(terms: dict[str, re.Pattern], arms: dict[str, set], readers: set, place: str, text: str) -> list[str]:
    problems = []
    for slug, pattern in terms.items():
        match = pattern.search(text)
        if match is None:
            continue
        without = sorted(arm for arm in readers if slug not in arms[arm])
        if without:
            problems.append(
                f'{place}: names diagram {slug} ("{match.group(0)}"), which '
                f"{'arm' if len(without) == 1 else 'arms'} {', '.join(without)} "
                f"{'does' if len(without) == 1 else 'do'} not get"
            )
    return problems
