import json

from django.core.management.base import BaseCommand

from analysis import dataset, report
from analysis.management.commands._select import add_selection_arguments, select


class Command(BaseCommand):
    help = "Print the analysis the admin view shows, as JSON or as text (the APA lines)."

    def add_arguments(self, parser):
        add_selection_arguments(parser)
        parser.add_argument("--format", choices=["json", "text"], default="text")
        parser.add_argument("--tost-margin", type=float, default=1.0)

    def handle(self, *args, **options):
        experiment, filters = select(options)
        results = report.build(dataset.load(experiment, filters), options["tost_margin"])
        if options["format"] == "json":
            self.stdout.write(json.dumps(results, indent=2, ensure_ascii=False, default=str))
            return
        arms = ", ".join(f"{a['name']} n = {a['n']}" for a in results["arms"])
        self.stdout.write(
            f"{experiment.title}: {results['n']} participants ({arms}); hypothesis {results['hypothesis']}"
        )
        for metric in results["metrics"]:
            for key in ("test", "kruskal"):
                if key in metric:
                    self.stdout.write(f"{metric['label']}: {metric[key]['apa']}")
        for rating in results["ratings"]:
            if "test" in rating:
                self.stdout.write(f"Usefulness of {rating['label']}: {rating['test']['apa']}")
        for within in results["within_arm"]:
            self.stdout.write(f"{within['arm']}, {within['a']} vs {within['b']}: {within['wilcoxon']['apa']}")
