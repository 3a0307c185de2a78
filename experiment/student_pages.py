"""The student pages as a simulated student reads them, and what it sends back from each stage.

The rehearsal bots (experiment/bots.py, sync) and the load driver (bench/driver.py, async) both read pages and fill
forms here and nowhere else. No I/O and no Django import: each brings its own transport, and the driver runs
without settings. Pages are read with html.parser by tag, name and value, so attribute order, whitespace and the
markup around an input (hand-written or Django's widget templates) do not matter.
"""

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import NamedTuple

CONSENT = "consent"  # the join page's stage: the consent button's value
THREAT_PREFIX = "threat_"  # the threats page's answer fields: threat_<threat id>
RATING_PREFIX = "rating_"  # the usefulness page's rating fields: rating_<source key>

# Button-like inputs are sent only when pressed; a file input is not something a student fills in here.
_NOT_SENT = {"submit", "button", "image", "reset", "file"}
_PARTICIPANT_PATH = re.compile(r"^/p/(?P<code>[0-9a-f-]{36})/(?P<stage>\w+)/$")


class ParticipantPath(NamedTuple):
    code: str
    stage: str


def participant_path(path: str) -> ParticipantPath | None:
    """The participant code and stage a student page's path names; None for any other path."""
    match = _PARTICIPANT_PATH.match(path)
    return ParticipantPath(match["code"], match["stage"]) if match else None


@dataclass
class Form:
    """The fields of a page's form, as a browser would send them before the student touches anything."""

    values: dict[str, str] = field(default_factory=dict)  # hidden and text inputs, checked boxes
    boxes: dict[str, str] = field(default_factory=dict)  # every checkbox, checked or not, and the value it sends
    choices: dict[str, list[str]] = field(default_factory=dict)  # radio groups and selects: the values offered
    texts: dict[str, str] = field(default_factory=dict)  # text areas and what they hold
    buttons: list[tuple[str, str]] = field(default_factory=list)  # named submit buttons: (name, value)

    def press(self, value: str) -> dict[str, str]:
        """The form as sent by the submit button of ``value``."""
        for name, button_value in self.buttons:
            if button_value == value:
                return {**self.values, **self.texts, name: value}
        raise ValueError(f"the form has no {value!r} button; it has {self.buttons}")


@dataclass
class StudentPage:
    """What a simulated student reads on a page."""

    form: Form | None = None  # the page's task form; None on a page without one
    images: list[str] = field(default_factory=list)  # the diagrams' addresses (.svg images), as the page wrote them
    completion_code: str = ""
    notices: list[str] = field(default_factory=list)  # the messages shown at the top ("You have already ...")
    errors: list[str] = field(default_factory=list)  # the form's errors, as listed on the page


@dataclass
class _Capture:
    """An element whose text is wanted, open now."""

    tag: str
    kind: str  # completion_code, notice, error, error_list
    depth: int = 1  # elements of the same tag open inside it, plus itself
    text: list[str] = field(default_factory=list)


class _PageReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = StudentPage()
        self._form: Form | None = None  # the task form while inside it
        self._select: str | None = None
        self._option: list[str] | None = None  # an option without a value attribute: its text is its value
        self._textarea: str | None = None
        self._captures: list[_Capture] = []
        self._error_lists = 0  # how many error lists we are inside

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        classes = attr.get("class", "").split()
        for capture in self._captures:
            if capture.tag == tag:
                capture.depth += 1
        if tag == "form":
            # The page's own form posts back to the page (no action); the language chooser in the header posts
            # to Django's set_language and is not part of the task.
            if attr.get("method", "").lower() == "post" and not attr.get("action") and self.page.form is None:
                self._form = self.page.form = Form()
        elif tag == "img" and attr.get("src", "").endswith(".svg") and attr["src"] not in self.page.images:
            self.page.images.append(attr["src"])
        elif tag == "code" and attr.get("id") == "completion-code":
            self._captures.append(_Capture(tag, "completion_code"))
        elif "alert-info" in classes:
            self._captures.append(_Capture(tag, "notice"))
        elif attr.get("id") == "form-errors" or "errorlist" in classes:
            # Our list of links to the fields (includes/form_errors.html) or Django's own (field.errors).
            self._captures.append(_Capture(tag, "error_list"))
            self._error_lists += 1
        elif tag == "li" and self._error_lists and not any(c.kind == "error" for c in self._captures):
            self._captures.append(_Capture(tag, "error"))
        if self._form is not None and "disabled" not in attr:
            self._field(tag, attr)

    def _field(self, tag: str, attr: dict[str, str]) -> None:
        form = self._form
        assert form is not None
        name = attr.get("name", "")
        kind = attr.get("type", "submit" if tag == "button" else "text").lower()
        if tag == "input" and name and kind == "radio":
            form.choices.setdefault(name, []).append(attr.get("value", "on"))
        elif tag == "input" and name and kind == "checkbox":
            form.boxes[name] = attr.get("value", "on")
            if "checked" in attr:
                form.values[name] = attr.get("value", "on")
        elif tag in ("input", "button") and kind == "submit":
            if name:
                form.buttons.append((name, attr.get("value", "")))
        elif tag == "input" and name and kind not in _NOT_SENT:
            form.values[name] = attr.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            form.texts[name] = ""
        elif tag == "select" and name:
            self._select = name
            form.choices[name] = []
        elif tag == "option" and self._select is not None:
            if "value" in attr:
                self._add_option(attr["value"])
            else:
                self._option = []

    def _add_option(self, value: str) -> None:
        # An empty option is a select's "nothing chosen"; a student picks one of the others.
        if value and self._form is not None and self._select is not None:
            self._form.choices[self._select].append(value)

    def handle_data(self, data: str) -> None:
        for capture in self._captures:
            capture.text.append(data)
        if self._textarea is not None and self._form is not None:
            self._form.texts[self._textarea] += data
        if self._option is not None:
            self._option.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            # A browser drops the newline that may follow <textarea> (Django's widget writes one).
            self._form.texts[self._textarea] = self._form.texts[self._textarea].removeprefix("\n")
            self._textarea = None
        elif tag == "option" and self._option is not None:
            self._add_option(" ".join("".join(self._option).split()))
            self._option = None
        elif tag == "select":
            self._select = None
        for capture in list(self._captures):
            if capture.tag != tag:
                continue
            capture.depth -= 1
            if capture.depth:
                continue
            self._captures.remove(capture)
            text = " ".join("".join(capture.text).split())
            if capture.kind == "completion_code":
                self.page.completion_code = text
            elif capture.kind == "notice":
                self.page.notices.append(text)
            elif capture.kind == "error":
                self.page.errors.append(text)
            else:
                self._error_lists -= 1


def read_page(html: str) -> StudentPage:
    reader = _PageReader()
    reader.feed(html)
    reader.close()
    return reader.page


def threat_id(name: str) -> int | None:
    """The threat a field of the threats page answers; None for its other fields (confidence ratings)."""
    rest = name.removeprefix(THREAT_PREFIX)
    return int(rest) if rest != name and rest.isdigit() else None


def fill(
    stage: str,
    form: Form,
    rng: random.Random,
    *,
    answer: Callable[[int], str] | None = None,
    text: str = "",
) -> dict[str, str]:
    """What a simulated student sends from the form of ``stage``.

    consent: the form as the consent button sends it, every statement ticked. Any other stage: every field the
    page set goes back as it was (the CSRF token, entry token, shown order, exposure), each radio group and select
    gets a choice drawn from ``rng`` in the order the page shows them, each text area gets ``text``.
    ``answer(threat_id)``, when given, is the value sent for each threat instead of a random one; the other groups
    stay random.
    """
    if stage == CONSENT:
        return {**form.press(CONSENT), **form.boxes}
    data = {**form.values, **dict.fromkeys(form.texts, text)}
    for name, offered in form.choices.items():
        threat = threat_id(name)
        if answer is not None and threat is not None:
            data[name] = answer(threat)
        elif offered:
            data[name] = rng.choice(offered)
    return data
