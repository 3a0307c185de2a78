"""Validation of a definition: every problem reported with its place, or the definition ready to load.

Validation reads the whole definition and reports every problem with its place (``scenario.threats[3].stride``), in
the order they are found: the schema version, translated texts, then the top level, the scenario, the experiment,
and last the blinding (a participant-facing text that names a diagram to an arm that does not get it). A definition
of an older schema version is first brought up to the current one (versions.py). Reading a file (``parse``) comes
before: its size, its JSON, and the JSON's nesting and numbers are limited there.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug

from experiment import bounded_json
from experiment.definition import analysis_plan, blinding
from experiment.definition.translations import FIELDS as TRANSLATED
from experiment.definition.translations import objects as translated_objects
from experiment.definition.translations import split as split_translations
from experiment.definition.versions import upgrade
from experiment.models import DebriefShown, Hypothesis, ItemKind, Placement
from threats.html import clean_html, clean_translations, is_safe_link
from threats.models import DiagramKind, Stride

# Version 2 added the experiment's participant_title and each diagram's terms, version 3 the analysis plan
# (experiment.analysis), version 4 the information sheet and the debrief; older files still load, with defaults for
# what they lack (versions.py, analysis_plan.py).
SCHEMA_VERSION = 4
# The shipped definitions nest 9 levels deep (arrays and objects); the limit leaves room and stops the parser's
# recursion long before Python's limit.
MAX_DEPTH = 20
# SlugField's default length, which every slug column has.
MAX_SLUG_LENGTH = 50
# A diagram's name, not a sentence.
MAX_TERM_LENGTH = 100
# PositiveIntegerField's range on every database.
MAX_SECONDS = 2_147_483_647


class DefinitionError(Exception):
    """A definition that cannot be read, validated or loaded.

    ``problems`` lists each problem as ``place: what is wrong``; the message joins them one per line.
    """

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class _Checker:
    problems: list[str] = field(default_factory=list)

    def need(
        self,
        obj: Any,
        key: str,
        kind: type | tuple[type, ...],
        where: str,
        *,
        optional=False,
        max_length: int | None = None,
    ) -> Any:
        if not isinstance(obj, dict):
            return None
        if key not in obj:
            if not optional:
                self.problems.append(f"{where}.{key}: missing")
            return None
        value = obj[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            self.problems.append(
                f"{where}.{key}: expected {_KIND_WORDS.get(names, names)}, got {json.dumps(value)[:60]}"
            )
            return None
        if isinstance(value, str) and not optional and not value.strip():
            self.problems.append(f"{where}.{key}: must not be empty")
        if isinstance(value, str) and max_length is not None and len(value) > max_length:
            self.problems.append(f"{where}.{key}: at most {max_length} characters, has {len(value)}")
        return value

    def slug(self, obj: Any, where: str) -> None:
        """``obj["slug"]`` as a slug column takes it: letters, digits, - and _, so it is safe in a URL and a file
        name (no path, no line break, no quote)."""
        value = self.need(obj, "slug", str, where, max_length=MAX_SLUG_LENGTH)
        if value:
            try:
                validate_slug(value)
            except ValidationError:
                self.problems.append(f"{where}.slug: use letters, digits, - and _ only, got {json.dumps(value)[:60]}")

    def one_of(self, value: Any, allowed: list[str], where: str) -> None:
        if value is not None and value not in allowed:
            self.problems.append(f"{where}: {json.dumps(value)} is not one of {', '.join(allowed)}")

    def items(self, obj: Any, key: str, where: str, *, minimum: int = 1) -> list:
        value = self.need(obj, key, list, where)
        if value is None:
            return []
        if len(value) < minimum:
            self.problems.append(f"{where}.{key}: needs at least {minimum} item(s), has {len(value)}")
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self.problems.append(f"{where}.{key}[{i}]: expected an object")
        return [item for item in value if isinstance(item, dict)]

    def unique(self, values: list, where: str) -> None:
        seen = set()
        for value in values:
            if value in seen:
                self.problems.append(f"{where}: {json.dumps(value)} appears more than once")
            seen.add(value)


_KIND_WORDS = {
    "str": "text",
    "list": "a list",
    "dict": "an object",
    "bool": "true or false",
    "int": "a number",
}


def _string_list(check: _Checker, obj: dict, key: str, where: str) -> None:
    value = check.need(obj, key, list, where)
    for i, item in enumerate(value or []):
        if not isinstance(item, str) or not item.strip():
            check.problems.append(f"{where}.{key}[{i}]: expected non-empty text")


def validate(data: Any, base_dir: Path | None = None) -> dict:
    """Check a parsed definition; return it ready for ``load``, or raise DefinitionError with every problem.

    Works on ``data`` in place: translated texts move into each object's ``translations`` and every ``svg_file``
    is read in as ``svg``. An ``svg_file`` must lie inside ``base_dir``; without one (an upload), SVG must be inline.
    """
    check = _Checker()
    if not isinstance(data, dict):
        raise DefinitionError(["(top): expected a JSON object"])
    _check_no_nul(check, data, "(top)")
    version = check.need(data, "schema_version", int, "(top)")
    if version is not None and not 1 <= version <= SCHEMA_VERSION:
        check.problems.append(
            f"(top).schema_version: this ThreatLab reads versions 1 to {SCHEMA_VERSION}, not {version}"
        )
    elif version is not None:
        upgrade(data, version)
    split_translations(data, check.problems)
    _clean_html(data)
    exp = check.need(data, "experiment", dict, "(top)")
    scen = check.need(data, "scenario", dict, "(top)")
    if scen is not None:
        where = "scenario"
        check.slug(scen, where)
        check.need(scen, "title", str, where, max_length=200)
        check.need(scen, "task_html", str, where)
        for i, section in enumerate(check.items(scen, "sections", where)):
            check.need(section, "title", str, f"{where}.sections[{i}]", max_length=200)
            check.need(section, "body_html", str, f"{where}.sections[{i}]")
            _check_video_url(check, section, f"{where}.sections[{i}]")
        diagrams = check.items(scen, "diagrams", where, minimum=0)
        for i, diagram in enumerate(diagrams):
            _check_diagram(check, diagram, f"{where}.diagrams[{i}]", base_dir)
        check.unique([d.get("slug") for d in diagrams], f"{where}.diagrams[].slug")
        threats = check.items(scen, "threats", where)
        for i, threat in enumerate(threats):
            _check_threat(check, threat, f"{where}.threats[{i}]")
        check.unique([t.get("ref") for t in threats], f"{where}.threats[].ref")
    if exp is not None:
        where = "experiment"
        check.slug(exp, where)
        check.need(exp, "title", str, where, max_length=200)
        check.need(exp, "participant_title", str, where, max_length=200)
        check.need(exp, "description", str, where, optional=True)
        check.one_of(check.need(exp, "hypothesis", str, where, optional=True), Hypothesis.values, f"{where}.hypothesis")
        arms = check.items(exp, "arms", where, minimum=2)
        diagram_slugs = {d.get("slug") for d in (scen or {}).get("diagrams", []) if isinstance(d, dict)}
        for i, arm in enumerate(arms):
            here = f"{where}.arms[{i}]"
            check.slug(arm, here)
            check.need(arm, "name", str, here, max_length=100)
            for j, slug in enumerate(check.need(arm, "diagrams", list, here) or []):
                if slug not in diagram_slugs:
                    check.problems.append(f"{here}.diagrams[{j}]: no diagram {json.dumps(slug)} in scenario.diagrams")
        check.unique([a.get("slug") for a in arms], f"{where}.arms[].slug")
        _check_options(check, exp, where)
        analysis_plan.check(check.problems, exp, where)
        _check_information(check, data, exp, where)
    check.problems += blinding.leaks(data)
    if check.problems:
        raise DefinitionError(check.problems)
    return data


# What an information sheet must tell, as an ethics board asks for it.
SHEET_FIELDS = ("researchers", "institution", "contact", "ethics_approval", "duration", "voluntariness", "data_use")
_KEY = re.compile(r"[a-z0-9_]{1,60}")


def _check_information(check: _Checker, data: dict, exp: dict, where: str) -> None:
    """The information sheet and its consent statements, and the debrief, each in every language the definition
    has texts in."""
    check.need(exp, "debrief_html", str, where)
    shown = check.need(exp, "debrief_shown", str, where, optional=True)
    check.one_of(shown, DebriefShown.values, f"{where}.debrief_shown")
    languages = _languages_of(data)
    _check_languages(check, exp, ("debrief_html",), where, languages)
    sheet = check.need(exp, "information_sheet", dict, where)
    if sheet is None:
        return
    here = f"{where}.information_sheet"
    check.need(sheet, "version", str, here, max_length=40)
    check.need(sheet, "example", bool, here, optional=True)
    for name in SHEET_FIELDS:
        check.need(sheet, name, str, here)
    _check_languages(check, sheet, SHEET_FIELDS, here, languages)
    statements = check.items(sheet, "statements", here)
    for i, statement in enumerate(statements):
        there = f"{here}.statements[{i}]"
        key = check.need(statement, "key", str, there)
        if key is not None and not _KEY.fullmatch(key):
            check.problems.append(f"{there}.key: use lower-case letters, digits and _, got {json.dumps(key)[:60]}")
        check.need(statement, "text", str, there)
        check.need(statement, "required", bool, there, optional=True)
        _check_languages(check, statement, ("text",), there, languages)
    check.unique([s.get("key") for s in statements], f"{here}.statements[].key")
    if statements and not any(s.get("required", True) is True for s in statements):
        check.problems.append(f"{here}.statements: at least one statement must be required (consent to take part)")


def _languages_of(data: dict) -> set[str]:
    """Every language the definition has a translated text in, besides the default."""
    found: set[str] = set()
    for path in TRANSLATED:
        for obj, _where in translated_objects(data, path):
            if isinstance(obj.get("translations"), dict):
                found |= set(obj["translations"])
    return found


def _check_languages(check: _Checker, obj: dict, fields: tuple[str, ...], where: str, languages: set[str]) -> None:
    """Each of ``fields`` that ``obj`` has is translated into every one of ``languages``: a participant who reads
    the lab in Dutch must read what they consent to in Dutch too."""
    translations = obj.get("translations") if isinstance(obj.get("translations"), dict) else {}
    for name in fields:
        if not isinstance(obj.get(name), str):
            continue
        missing = sorted(lang for lang in languages if not (translations.get(lang) or {}).get(name))
        if missing:
            check.problems.append(
                f"{where}.{name}: missing in {', '.join(missing)}, which the experiment's other texts are written in"
            )


def _check_options(check: _Checker, exp: dict, where: str) -> None:
    """The optional parts of an experiment: confidence, reading times, questionnaires, strata."""
    check.need(exp, "ask_confidence", bool, where, optional=True)
    for key in ("min_training_seconds", "min_plausible_threats_seconds"):
        value = check.need(exp, key, int, where, optional=True)
        if value is not None and not 0 <= value <= MAX_SECONDS:
            check.problems.append(f"{where}.{key}: must be 0 to {MAX_SECONDS}, got {value}")
    questionnaires = check.items(exp, "questionnaires", where, minimum=0) if "questionnaires" in exp else []
    for i, questionnaire in enumerate(questionnaires):
        here = f"{where}.questionnaires[{i}]"
        check.one_of(check.need(questionnaire, "placement", str, here), Placement.values, f"{here}.placement")
        check.need(questionnaire, "title", str, here, max_length=200)
        check.need(questionnaire, "intro", str, here, optional=True)
        items = check.items(questionnaire, "items", here)
        for j, item in enumerate(items):
            _check_item(check, item, f"{here}.items[{j}]")
        check.unique([item.get("key") for item in items], f"{here}.items[].key")
    check.unique([q.get("placement") for q in questionnaires], f"{where}.questionnaires[].placement")
    stratify = check.need(exp, "stratify", dict, where, optional=True)
    if stratify is not None:
        here = f"{where}.stratify"
        key = check.need(stratify, "item", str, here)
        strata = check.need(stratify, "strata", dict, here, optional=True) or {}
        entry = next((q for q in questionnaires if q.get("placement") == Placement.ENTRY), None)
        item = next(
            (it for it in (entry or {}).get("items", []) if isinstance(it, dict) and it.get("key") == key), None
        )
        if key is not None and item is None:
            check.problems.append(f"{here}.item: no item {json.dumps(key)} in the entry questionnaire")
        elif item is not None:
            if item.get("kind") not in (ItemKind.SINGLE_CHOICE, ItemKind.PERCENTAGE_BANDS):
                check.problems.append(
                    f"{here}.item: {json.dumps(key)} must be a single_choice or percentage_bands item"
                )
            values = {str(o.get("value")) for o in item.get("options", []) if isinstance(o, dict)}
            for value in strata:
                if values and value not in values:
                    check.problems.append(f"{here}.strata: {json.dumps(value)} is not an option of {key}")


def _check_item(check: _Checker, item: dict, where: str) -> None:
    key = check.need(item, "key", str, where)
    if key is not None and not re.fullmatch(r"[a-z0-9_]{1,60}", key):
        check.problems.append(
            f"{where}.key: use lower-case letters, digits and _ (a column name), got {json.dumps(key)}"
        )
    kind = check.need(item, "kind", str, where)
    check.one_of(kind, ItemKind.values, f"{where}.kind")
    check.need(item, "text", str, where)
    check.need(item, "required", bool, where, optional=True)
    if kind in (ItemKind.SINGLE_CHOICE, ItemKind.LIKERT_ROWS) or (
        kind == ItemKind.PERCENTAGE_BANDS and item.get("options")
    ):
        options = check.items(item, "options", where, minimum=2)
        for k, option in enumerate(options):
            check.need(option, "value", (str, int), f"{where}.options[{k}]")
            check.need(option, "label", str, f"{where}.options[{k}]")
        check.unique([str(o.get("value")) for o in options], f"{where}.options[].value")
    if kind == ItemKind.LIKERT_ROWS:
        rows = check.items(item, "rows", where)
        for k, row in enumerate(rows):
            check.need(row, "key", str, f"{where}.rows[{k}]")
            check.need(row, "label", str, f"{where}.rows[{k}]")
        check.unique([r.get("key") for r in rows], f"{where}.rows[].key")


def _check_diagram(check: _Checker, diagram: dict, where: str, base_dir: Path | None) -> None:
    check.slug(diagram, where)
    check.need(diagram, "title", str, where, max_length=200)
    check.need(diagram, "text_alternative", str, where)
    check.one_of(check.need(diagram, "kind", str, where), DiagramKind.values, f"{where}.kind")
    _check_terms(check, diagram, where)
    if "svg" in diagram:
        svg = check.need(diagram, "svg", str, where)
    elif "svg_file" in diagram:
        svg = None
        name = check.need(diagram, "svg_file", str, where)
        if name is not None and base_dir is None:
            check.problems.append(f"{where}.svg_file: an uploaded definition must carry its SVG inline (svg)")
        elif name is not None:
            path = (base_dir / name).resolve()
            if not path.is_relative_to(base_dir.resolve()):
                check.problems.append(f"{where}.svg_file: {name} is outside the definition's folder")
            else:
                try:
                    svg = path.read_text(encoding="utf-8")
                except OSError as error:
                    check.problems.append(f"{where}.svg_file: cannot read {name}: {error.strerror}")
        diagram["svg"] = svg
    else:
        check.problems.append(f"{where}: needs svg (inline) or svg_file (a path beside the definition)")
        return
    if isinstance(diagram.get("svg"), str) and "<svg" not in diagram["svg"][:2000]:
        check.problems.append(f"{where}.svg: does not look like an SVG document")


def _check_terms(check: _Checker, diagram: dict, where: str) -> None:
    """``terms``: per language, the words that name the diagram (blinding.py looks for them)."""
    terms = check.need(diagram, "terms", dict, where)
    known = sorted(code for code, _name in settings.LANGUAGES)
    for language, words in (terms or {}).items():
        here = f"{where}.terms.{language}"
        if language not in known:
            check.problems.append(f"{where}.terms: unknown language {language}; use {', '.join(known)}")
        elif not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            check.problems.append(f"{here}: expected a list of non-empty texts")
        elif any(len(w) > MAX_TERM_LENGTH for w in words):
            check.problems.append(f"{here}: a term has at most {MAX_TERM_LENGTH} characters")


def _check_threat(check: _Checker, threat: dict, where: str) -> None:
    check.need(threat, "ref", str, where, max_length=80)
    check.need(threat, "title", str, where, max_length=200)
    check.need(threat, "description", str, where)
    check.one_of(check.need(threat, "stride", str, where), Stride.values, f"{where}.stride")
    _string_list(check, threat, "assumptions", where)
    _string_list(check, threat, "affected_components", where)
    check.need(threat, "is_real", bool, where)
    check.need(threat, "rationale", str, where, optional=True)
    check.need(threat, "source", str, where, optional=True)


def _check_video_url(check: _Checker, section: dict, where: str) -> None:
    """A link or a video's source on the page: a web address or a path on this site, never ``javascript:``."""
    url = check.need(section, "video_url", str, where, optional=True, max_length=500)
    if url and not is_safe_link(url):
        check.problems.append(f"{where}.video_url: use an http(s) address or a /path, got {json.dumps(url)[:60]}")


def _check_no_nul(check: _Checker, value: Any, where: str) -> None:
    """No text holds a NUL (``\\u0000``), which PostgreSQL refuses in text and jsonb columns. Recursion is bounded:
    parse limits the nesting."""
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                check.problems.append(f"{where}: a key contains a NUL character (\\u0000)")
                continue
            _check_no_nul(check, item, f"{where}.{key}" if where != "(top)" else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_no_nul(check, item, f"{where}[{i}]")
    elif isinstance(value, str) and "\x00" in value:
        check.problems.append(f"{where}: contains a NUL character (\\u0000), which no text column stores")


def _clean_html(data: dict) -> None:
    """Clean every translatable HTML field (``*_html``) and its translations in place (threats/html.py)."""
    for path, fields in TRANSLATED.items():
        html_fields = [name for name in fields if name.endswith("_html")]
        if not html_fields:
            continue
        for obj, _where in translated_objects(data, path):
            for name in html_fields:
                if isinstance(obj.get(name), str):
                    obj[name] = clean_html(obj[name])
            clean_translations(obj.get("translations"), html_fields)


def _refuse_if_too_large(size: int, name: str) -> None:
    limit = settings.THREATLAB_DEFINITION_MAX_BYTES
    if size > limit:
        raise DefinitionError([f"{name}: {size:,} bytes; a definition may have at most {limit:,} bytes"])


def parse(raw: bytes, name: str) -> Any:
    """The JSON in a definition file's bytes, named ``name`` in problems.

    Raises DefinitionError for a file over THREATLAB_DEFINITION_MAX_BYTES, not UTF-8, not JSON, nested deeper
    than MAX_DEPTH, or with a number no column stores (bounded_json).
    """
    _refuse_if_too_large(len(raw), name)
    try:
        return bounded_json.loads(raw.decode("utf-8"), max_depth=MAX_DEPTH)
    except UnicodeDecodeError as error:
        raise DefinitionError([f"{name}: not UTF-8 (byte {error.start})"]) from None
    except json.JSONDecodeError as error:
        raise DefinitionError(
            [f"{name}: not valid JSON at line {error.lineno} column {error.colno}: {error.msg}"]
        ) from None


def read_file(path: Path) -> dict:
    """Parse and validate a definition file, reading ``svg_file`` paths beside it.

    Raises DefinitionError for a file that cannot be read, is not JSON within parse's limits, or is not a valid
    definition.
    """
    try:
        _refuse_if_too_large(path.stat().st_size, str(path))
        raw = path.read_bytes()
    except OSError as error:
        raise DefinitionError([f"{path}: cannot read: {error.strerror}"]) from error
    return validate(parse(raw, str(path)), base_dir=path.parent)
