"""A worker's memory of things built once and used by every request: bounded, least recently used first out.

The content snapshots, the rendered page fragments and the shared form fields each keep one. Keys carry whatever
decides the value (the experiment's content key, the language, ...), so an entry is never stale, only unused.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class WorkerMemo(Generic[V]):
    def __init__(self, kept: int):
        self.kept = kept
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], V]) -> V:
        """The value kept for ``key``, or what ``build`` makes (outside the lock: two threads may both build a new
        key once; the results are the same)."""
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
                return value
        value = build()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.kept:
                self._values.popitem(last=False)
        return value
