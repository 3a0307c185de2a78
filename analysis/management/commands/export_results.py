from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from analysis import exports
from analysis.management.commands._select import add_selection_arguments, margins, select


class Command(BaseCommand):
    help = "Write participants.csv, answers.csv, codebook.md and replication.zip into a folder."

    def add_arguments(self, parser):
        add_selection_arguments(parser)
        parser.add_argument("--out", required=True, type=Path, help="The folder to write into (created if new).")

    def handle(self, *args, **options):
        experiment, filters = select(options)
        out: Path = options["out"]
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(f"Cannot create {out}: {error.strerror}") from None
        for name, rows in (("participants.csv", exports.participant_rows), ("answers.csv", exports.answer_rows)):
            with (out / name).open("w", encoding="utf-8", newline="") as handle:
                for line in exports.csv_lines(rows(experiment, filters)):
                    handle.write(line)
        (out / "codebook.md").write_text(exports.codebook(experiment), encoding="utf-8")
        (out / "replication.zip").write_bytes(exports.replication_package(experiment, filters, margins(options)))
        self.stdout.write(f"Wrote participants.csv, answers.csv, codebook.md and replication.zip to {out}.")
