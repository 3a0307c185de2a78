import json

from django.core.management.base import BaseCommand

from analysis import dataset, report, text_report
from analysis.management.commands._select import add_selection_arguments, margins, select


class Command(BaseCommand):
    help = "Print the analysis the admin view shows, as JSON or as text (the APA lines)."

    def add_arguments(self, parser):
        add_selection_arguments(parser)
        parser.add_argument("--format", choices=["json", "text"], default="text")

    def handle(self, *args, **options):
        experiment, filters = select(options)
        results = report.build(dataset.load(experiment, filters), margins(options))
        if options["format"] == "json":
            self.stdout.write(json.dumps(results, indent=2, ensure_ascii=False, default=str))
            return
        self.stdout.write(text_report.render(experiment.title, results))
