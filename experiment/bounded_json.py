"""JSON parsing with limits on nesting and numbers, for JSON that comes from outside (definition files, forms).

Python's parser recurses once per nesting level, so a few thousand ``[`` raise RecursionError; it turns a
5,000-digit integer into ValueError (not JSONDecodeError); and it accepts ``NaN``, ``Infinity`` and ``1e999``,
which no database column stores. ``loads`` checks the text first and refuses all of these as ``JSONLimitError``, a
JSONDecodeError that says where (line and column), so callers need to catch only JSONDecodeError.
"""

import json
import math
import re
from typing import Any

# A JSON string; replaced by spaces of the same length, so brackets and digits inside strings are not counted and
# positions stay those of the original text.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_TOKEN = re.compile(r"[\[{]|[\]}]|NaN|-?Infinity|-?(\d+)(\.\d+)?([eE][+-]?\d+)?")


class JSONLimitError(json.JSONDecodeError):
    """JSON that is well-formed, or may be, but goes beyond a limit (nesting, digits, non-finite numbers)."""


def loads(text: str, *, max_depth: int, max_digits: int = 20) -> Any:
    """Parse ``text`` as ``json.loads`` does, refusing nesting deeper than ``max_depth`` arrays and objects, an
    integer part of more than ``max_digits`` digits, and numbers that are not finite.

    Raises JSONDecodeError (JSONLimitError for a limit) with the place of the first problem.
    """
    structure = _STRING.sub(lambda match: " " * len(match.group()), text)
    depth = 0
    for match in _TOKEN.finditer(structure):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > max_depth:
                raise JSONLimitError(f"nested deeper than {max_depth} levels", text, match.start())
        elif token in "]}":
            depth -= 1
        elif match.group(1) is None:
            raise JSONLimitError(f"{token} is not a number a database stores", text, match.start())
        elif len(match.group(1)) > max_digits:
            raise JSONLimitError(f"a number of {len(match.group(1))} digits; at most {max_digits}", text, match.start())
        elif (match.group(2) or match.group(3)) and not math.isfinite(float(token)):
            raise JSONLimitError(f"{token[:20]} is too large a number", text, match.start())
    return json.loads(text)
