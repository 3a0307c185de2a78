"""The student pages as a simulated student reads them, and what it sends back from each stage.

The rehearsal bots (experiment/bots.py, sync) and the load driver (bench/driver.py, async) both read pages and fill
forms here and nowhere else. No I/O and no Django import: each brings its own transport, and the driver runs
without settings. Pages are read with lxml by tag, name and value, so attribute order, whitespace and the markup
around an input (hand-written or Django's widget templates) do not matter.
"""

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import lxml.html

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


def _text(element) -> str:
    """An element's text as a person reads it: every descendant's text, whitespace collapsed."""
    return " ".join(element.text_content().split())


# The page's own form posts back to the page (no action); the language chooser in the header posts to Django's
# set_language and is not part of the task.
_TASK_FORM = "//form[translate(@method, 'POST', 'post') = 'post' and not(@action)]"
# The messages: notices (p or div of class alert-info), our list of links to the fields (div#form-errors,
# includes/form_errors.html) and Django's own (ul.errorlist). Named tags and a cheap filter first, the exact class
# test in Python: a test on every element of a page holding a diagram costs more than parsing it.
_MESSAGES = (
    "//p[contains(@class, 'alert-info')] | //div[@id = 'form-errors' or contains(@class, 'alert-info')]"
    " | //ul[contains(@class, 'errorlist')]"
)


def _read_form(element) -> Form:
    form = Form()
    for control in element.iter("input", "button", "textarea", "select"):
        name = control.get("name", "")
        if "disabled" in control.attrib:
            continue
        kind = control.get("type", "submit" if control.tag == "button" else "text").lower()
        if control.tag == "input" and name and kind == "radio":
            form.choices.setdefault(name, []).append(control.get("value", "on"))
        elif control.tag == "input" and name and kind == "checkbox":
            form.boxes[name] = control.get("value", "on")
            if "checked" in control.attrib:
                form.values[name] = control.get("value", "on")
        elif control.tag in ("input", "button") and kind == "submit":
            if name:
                form.buttons.append((name, control.get("value", "")))
        elif control.tag == "input" and name and kind not in _NOT_SENT:
            form.values[name] = control.get("value", "")
        elif control.tag == "textarea" and name:
            # A browser drops the newline that may follow <textarea> (Django's widget writes one).
            form.texts[name] = (control.text or "").removeprefix("\n")
        elif control.tag == "select" and name:
            # An empty option is a select's "nothing chosen"; a student picks one of the others. An option
            # without a value attribute sends its text.
            offered = (
                option.get("value") if "value" in option.attrib else _text(option) for option in control.iter("option")
            )
            form.choices[name] = [value for value in offered if value]
    return form


def read_page(html: str) -> StudentPage:
    """What a student reads on ``html``: its task form, diagrams, completion code, notices and errors.

    libxml2 parses the page (lxml): the load driver reads every page a class is sent, on the cores the server
    under test needs, and html.parser cost as much CPU per page as rendering it.
    """
    document = lxml.html.document_fromstring(html)
    page = StudentPage()
    forms = document.xpath(_TASK_FORM)
    if forms:
        page.form = _read_form(forms[0])
    for image in document.iter("img"):
        source = image.get("src", "")
        if source.endswith(".svg") and source not in page.images:
            page.images.append(source)
    code = document.xpath("//code[@id = 'completion-code']")
    if code:
        page.completion_code = _text(code[0])
    for element in document.xpath(_MESSAGES):
        classes = element.get("class", "").split()
        if "alert-info" in classes:
            page.notices.append(_text(element))
        elif element.get("id") == "form-errors" or "errorlist" in classes:
            # An item of a list nested in an item is part of that item's message.
            page.errors.extend(_text(item) for item in element.xpath(".//li[not(ancestor::li)]"))
    return page


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
