"""Masking participant codes in log records: a participant code in a URL is the credential to resume the lab, and
log lines (``Not Found: /p/<code>/...``) travel further than the database. Add a pattern here for any other form
of the code."""

import logging
import re

CODE_PATTERNS = [
    # The participant's UUID, in any case, with or without dashes.
    re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b", re.IGNORECASE),
]
MASK = "[code]"


def masked(text: str) -> str:
    for pattern in CODE_PATTERNS:
        text = pattern.sub(MASK, text)
    return text


class MaskParticipantCodes(logging.Filter):
    """Replaces every participant code in a record's message (after its arguments are merged in) and its
    exception text; keeps every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = masked(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = masked(record.exc_text)
        return True
