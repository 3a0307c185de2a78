"""Compile the project's translations (locale/*/LC_MESSAGES/*.po) to the .mo files Django reads, in pure Python.

Django's own `compilemessages` needs GNU gettext's msgfmt, which a fresh machine does not have; polib does the same
job. The .mo files are build output (not committed): `make` runs this after installing, and tests/test_i18n.py runs
it before it renders a page in another language.
"""

import os
import re
import tempfile
from collections import Counter
from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# A printf-style conversion as Python's % operator reads it: %(name)s, %02d, %s; %% is a literal percent sign.
_PERCENT_FORMAT = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?P<kind>[a-zA-Z%])")


def placeholders(text: str) -> Counter:
    """The %-format placeholders in text, counted ("%(ref)s" -> {"%(ref)s": 1}); literal %% is left out."""
    return Counter(match.group(0) for match in _PERCENT_FORMAT.finditer(text) if match.group("kind") != "%")


def format_problems(po: polib.POFile) -> list[str]:
    """Translations of python-format messages whose placeholders differ from the original's.

    Such a translation would raise KeyError or TypeError when the page formats it, so it must not ship.
    """
    problems = []
    for entry in po.translated_entries():
        if "python-format" not in entry.flags:
            continue
        expected = placeholders(entry.msgid)
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for msgstr in translations:
            if placeholders(msgstr) != expected:
                problems.append(f"line {entry.linenum}: {entry.msgid!r} is translated as {msgstr!r}")
    return problems


def _write_atomically(path: Path, data: bytes) -> None:
    # A running server may read the catalogue at any moment: it sees the old file or the new one, never half.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po to .mo without GNU gettext (fuzzy and empty entries are left out)."
    # Like Django's compilemessages: it reads no model, so a broken check elsewhere must not stop the build.
    requires_system_checks = []

    def handle(self, *args, **options):
        catalogues = sorted(po for root in settings.LOCALE_PATHS for po in Path(root).glob("*/LC_MESSAGES/*.po"))
        if not catalogues:
            self.stdout.write("No translations to compile.")
            return
        # Check every file before writing any, so a broken catalogue leaves the compiled set as it was.
        parsed = []
        problems = []
        for path in catalogues:
            try:
                po = polib.pofile(str(path))
            except (OSError, ValueError) as error:
                problems.append(f"{path}: {error}")
                continue
            problems.extend(f"{path}: {problem}" for problem in format_problems(po))
            parsed.append((path, po))
        if problems:
            raise CommandError("Translations with errors, nothing compiled:\n" + "\n".join(problems))
        for path, po in parsed:
            _write_atomically(path.with_suffix(".mo"), po.to_binary())
            if options["verbosity"] >= 1:
                total = len([entry for entry in po if not entry.obsolete])
                self.stdout.write(f"Compiled {path} ({len(po.translated_entries())} of {total} messages)")
