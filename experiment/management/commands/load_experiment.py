from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from experiment import definition
from experiment.models import Experiment


class Command(BaseCommand):
    help = "Load an experiment definition (JSON); reports every problem with its place and changes nothing on error."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--skip-existing",
            action="store_true",
            help="Leave an experiment with the same slug as it is (first runs).",
        )

    def handle(self, *args, path: Path, skip_existing: bool, **options):
        try:
            data = definition.read_file(path)
            slug = data["experiment"]["slug"]
            if skip_existing and Experiment.objects.filter(slug=slug).exists():
                self.stdout.write(f"Experiment {slug} is already loaded; left as it is.")
                return
            experiment = definition.load(data)
        except definition.DefinitionError as error:
            raise CommandError(
                f"{path}: {len(error.problems)} problem(s), nothing was loaded:\n  " + "\n  ".join(error.problems)
            ) from None
        arms = ", ".join(arm.name for arm in experiment.arms.order_by("position"))
        threats = experiment.scenario.threats.count()
        self.stdout.write(f"Loaded experiment {experiment.slug}: {threats} threats, arms {arms}.")
        for warning in definition.warnings(experiment):
            self.stdout.write(self.style.WARNING(f"Warning: {warning}"))
