"""Join codes (8 characters a class can read off a projector and type without mix-ups), participant codes for
resuming, and completion codes."""

import hashlib
import hmac
import secrets

from django.conf import settings

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: pairs that students confuse when a code is read aloud or projected.
JOIN_CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
JOIN_CODE_LENGTH = 8


class JoinCodeConverter:
    """``<join_code:join_code>`` in a URL: letters and digits, as many as the join_code column holds (12).

    Anything else (a NUL, a slash, a quote) is a 404 from the URL resolver and never reaches the database, where
    PostgreSQL refuses a NUL with an error. Wider than the alphabet above on purpose: the page upper-cases what it
    gets, and a code set by hand (bench/pages.py) or guessed still reaches the view, where wrong guesses count.
    """

    regex = "[A-Za-z0-9]{1,12}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normalise_join_code(raw: str) -> str:
    """Upper case without spaces or dashes, so 'acde-3479 fghj' and 'ACDE3479FGHJ' match."""
    return "".join(raw.split()).replace("-", "").upper()


# A participant's code for resuming: 11 characters of the 25 above, 25**11 > 2**51 codes, written 4-4-3. Short enough
# to copy off the footer by hand; too many to guess, and guesses are limited as join codes are (throttle.py).
PARTICIPANT_CODE_LENGTH = 11
_PARTICIPANT_CODE_GROUPS = (4, 4, 3)


def new_participant_code() -> str:
    """A fresh participant code, without its dashes (as stored)."""
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(PARTICIPANT_CODE_LENGTH))


def grouped(code: str) -> str:
    """A stored participant code as people read it: 7KQM-X3PD-RW9."""
    parts, start = [], 0
    for size in _PARTICIPANT_CODE_GROUPS:
        parts.append(code[start : start + size])
        start += size
    return "-".join(parts)


def participant_code_or_none(raw: str) -> str | None:
    """A typed participant code as stored (dashes and spaces dropped, upper case), or None when it cannot be one."""
    code = normalise_join_code(raw)
    if len(code) == PARTICIPANT_CODE_LENGTH and all(character in JOIN_CODE_ALPHABET for character in code):
        return code
    return None


def completion_code_for(participant_code: str) -> str:
    """Ten characters in two groups, e.g. ACDEF-34679, derived from the participant's code with the server's key.

    Derived, not stored with the participant: the thank-you page can show it again on any device, while the
    database keeps the code apart (no link, no timestamp) and nobody without the SECRET_KEY can link the two.
    """
    digest = hmac.new(settings.SECRET_KEY.encode(), f"completion:{participant_code}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:16], "big")
    raw = ""
    for _ in range(10):
        number, index = divmod(number, len(JOIN_CODE_ALPHABET))
        raw += JOIN_CODE_ALPHABET[index]
    return f"{raw[:5]}-{raw[5:]}"
