"""``{% fragment "name" key ... %}...{% endfragment %}``: render a part of a page once per worker and language.

A class of five hundred sees the same training, threat cards and questionnaires; rendering them again for every
page view was most of the page's cost. Unlike Django's ``{% cache %}``, the rendered text stays in the worker's
memory (no pickling, no expiry): the keys carry the experiment's content key (experiment/content.py), which changes
with every edit, so an entry is never stale, only unused.

What a fragment shows must be fully named by its keys and the active language: nothing per participant (codes,
CSRF tokens, answers, errors) may be inside one.
"""

import functools
from collections.abc import Callable

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from experiment.memo import WorkerMemo

register = template.Library()

# Enough for every fragment of a few experiments in three languages; the least recently used go first.
_rendered: WorkerMemo[str] = WorkerMemo(kept=4000)


class FragmentNode(template.Node):
    def __init__(self, nodelist: template.NodeList, name: str, keys: list[template.base.FilterExpression]):
        self.nodelist = nodelist
        self.name = name
        self.keys = keys

    def render(self, context: template.Context) -> str:
        values = [k.resolve(context, ignore_failures=True) for k in self.keys]
        if any(value is None for value in values):
            # A missing key would make one fragment serve every experiment or arm: fail loudly instead.
            missing = [k.token for k, value in zip(self.keys, values, strict=True) if value is None]
            raise template.TemplateSyntaxError(f"{{% fragment {self.name} %}}: no value for {', '.join(missing)}")
        return remembered((self.name, *values), lambda: self.nodelist.render(context))


def remembered(key: tuple, render: Callable[[], str]) -> str:
    """What ``render`` returns, rendered once per worker for ``key`` and the active language."""
    return _rendered.get((*key, get_language()), lambda: mark_safe(render()))


@register.tag
def fragment(parser: template.base.Parser, token: template.base.Token) -> FragmentNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% fragment %} needs a name, then the keys that decide its content.")
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    name = bits[1].strip("\"'")
    return FragmentNode(nodelist, name, [parser.compile_filter(bit) for bit in bits[2:]])


# Stands for a card's number while the card is rendered once for every position (a private-use character).
_NUMBER = "\ue000"


@register.simple_tag(takes_context=True)
def threat_cards(context: template.Context, form, content_key) -> str:
    """The cards of an unanswered threats form, in the participant's order.

    Each card is rendered once per worker (includes/threat_article.html), with a stand-in for its number; a page
    numbers them and joins them in its participant's order. Through a template loop, the ten cards were a fifth of
    the page's CPU; rendered once per position, each worker rendered a hundred of them (0.26 ms each).
    """
    article = context.template.engine.get_template("includes/threat_article.html")

    def render(threat) -> str:
        field, confidence = form.bound_fields_of(threat)
        with context.push(threat=threat, field=field, confidence=confidence, position=_NUMBER):
            return article.render(context)

    cards = []
    for position, threat in enumerate(form.threats, start=1):
        card = remembered(("threat-article", content_key, threat.pk), functools.partial(render, threat))
        # The number is the card's first variable (its heading), so the first stand-in is the one to replace.
        cards.append(card.replace(_NUMBER, str(position), 1))
    return mark_safe("".join(cards))
