"""Join codes: 8 characters a class can read off a projector and type without mix-ups."""

import secrets

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: pairs that students confuse when a code is read aloud or projected.
JOIN_CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
JOIN_CODE_LENGTH = 8


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normalise_join_code(raw: str) -> str:
    """Upper case without spaces or dashes, so 'acde-3479 fghj' and 'ACDE3479FGHJ' match."""
    return "".join(raw.split()).replace("-", "").upper()


def new_completion_code() -> str:
    """Ten characters in two groups, e.g. ACDEF-34679: easy to copy into a course system."""
    raw = "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"
