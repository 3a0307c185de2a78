"""The HTML that researchers write for participants (a scenario's task, the training sections), cleaned by nh3.

Pages show this HTML as it is (``|safe``), and definition files travel in replication packages, so it is cleaned
when a definition is loaded and when the admin saves it: only the tags and attributes below survive. Scripts,
forms, iframes, ``<meta http-equiv="refresh">``, event handlers, styles and ``javascript:`` URLs do not. The list
is what the shipped definitions use (fixtures/*.json, which it leaves unchanged: tests/test_definition_html.py),
plus headings, links and a few inline tags a researcher's text is likely to need. The CSP stays as the second wall.
Diagrams are SVG served as images, never as HTML, and are not cleaned here.
"""

from collections.abc import Iterable
from urllib.parse import urlsplit

import nh3

ALLOWED_TAGS = {
    # Used by the shipped definitions.
    "p", "strong", "em", "code", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td",
    # Likely in a researcher's own material; harmless as text formatting.
    "a", "br", "b", "i", "sub", "sup", "h3", "h4", "h5", "blockquote", "pre", "caption", "dl", "dt", "dd", "abbr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "ol": {"start"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "a": {"href", "title"},
    "abbr": {"title"},
}
# Links open outside the lab; nh3 adds rel="noopener noreferrer" to each.
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def clean_html(html: str) -> str:
    """``html`` with everything outside the allow-list removed; HTML within it comes back unchanged."""
    return nh3.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=ALLOWED_URL_SCHEMES, strip_comments=True
    )


def clean_translations(translations: object, fields: Iterable[str]) -> object:
    """A model's ``translations`` (``{"nl": {"body_html": ...}}``) with each of the HTML ``fields`` cleaned.

    Anything that is not a dict of dicts of text is returned as it is: its shape is checked elsewhere.
    """
    if not isinstance(translations, dict):
        return translations
    for texts in translations.values():
        if isinstance(texts, dict):
            for field in fields:
                if isinstance(texts.get(field), str):
                    texts[field] = clean_html(texts[field])
    return translations


def is_safe_link(url: str) -> bool:
    """A URL the page may link to or play (a section's video): http(s) or a path on this site, never
    ``javascript:``."""
    return urlsplit(url).scheme.lower() in ("http", "https") or (url.startswith("/") and not url.startswith("//"))
