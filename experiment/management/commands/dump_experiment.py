import json

from django.core.management.base import BaseCommand, CommandError

from experiment import definition
from experiment.models import Experiment


class Command(BaseCommand):
    help = "Print an experiment's definition as JSON (SVGs inline), ready for load_experiment."

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle(self, *args, slug: str, **options):
        experiment = Experiment.objects.filter(slug=slug).first()
        if experiment is None:
            known = ", ".join(Experiment.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"No experiment {slug!r}. Known: {known}.")
        self.stdout.write(json.dumps(definition.dump(experiment), indent=2, ensure_ascii=False))
