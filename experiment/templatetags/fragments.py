"""``{% fragment "name" key ... %}...{% endfragment %}``: render a part of a page once per worker and language.

A class of five hundred sees the same training, threat cards and questionnaires; rendering them again for every
page view was most of the page's cost. Unlike Django's ``{% cache %}``, the rendered text stays in the worker's
memory (no pickling, no expiry): the keys carry the experiment's content key (experiment/content.py), which changes
with every edit, so an entry is never stale, only unused.

What a fragment shows must be fully named by its keys and the active language: nothing per participant (codes,
CSRF tokens, answers, errors) may be inside one.
"""

import threading
from collections import OrderedDict

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()

# Enough for every fragment of a few experiments in three languages; the least recently used go first.
_KEPT = 4000
_rendered: OrderedDict[tuple, str] = OrderedDict()
_lock = threading.Lock()


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
        key = (self.name, get_language(), *values)
        with _lock:
            html = _rendered.get(key)
            if html is not None:
                _rendered.move_to_end(key)
                return html
        html = mark_safe(self.nodelist.render(context))
        with _lock:
            _rendered[key] = html
            while len(_rendered) > _KEPT:
                _rendered.popitem(last=False)
        return html


@register.tag
def fragment(parser: template.base.Parser, token: template.base.Token) -> FragmentNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% fragment %} needs a name, then the keys that decide its content.")
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    name = bits[1].strip("\"'")
    return FragmentNode(nodelist, name, [parser.compile_filter(bit) for bit in bits[2:]])
