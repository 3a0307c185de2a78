"""When what participants are shown changes: the experiment's content key, renewed by one explicit call.

Student pages cache their shared blocks (the training material, the threat cards, the questionnaires) in the
``content`` cache under keys that carry the experiment's content key, the language and the arm. Every participant
page reads the key with the participant, so once ``renew_key`` has run, every worker and replica renders the new
content on its next request; old entries are never read again and age out.
"""

import uuid
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import caches

from experiment.models import Experiment

T = TypeVar("T")

# The cache alias of rendered content blocks (settings.CACHES): apart from the default cache, which holds counters.
CACHE = "content"


def renew_key(experiment_ids) -> None:
    """Give these experiments a new content key: every worker's next page then renders their content afresh.

    Call it wherever what participants are shown is saved or deleted (definition load, the admin).
    """
    Experiment.objects.filter(pk__in=list(experiment_ids)).update(content_key=uuid.uuid4())


def kept(content_key: uuid.UUID, name: str, compute: Callable[[], T]) -> T:
    """What ``compute`` returns for an experiment's current content (its ``content_key``), kept in the content cache
    under that key.

    For plain data (strings, numbers, lists of them) that every participant's request would otherwise read again:
    the stages, the threat and arm ids, a diagram's SVG. Not for model instances: the cache pickles what it keeps.
    """
    return caches[CACHE].get_or_set(f"{name}:{content_key}", compute, timeout=None)
