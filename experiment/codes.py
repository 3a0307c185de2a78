"""Join codes: 8 characters a class can read off a projector and type without mix-ups."""

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
