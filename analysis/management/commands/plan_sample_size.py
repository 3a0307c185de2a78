import json

from django.core.management.base import BaseCommand, CommandError

from analysis import dataset, planning, report
from analysis.management.commands._select import add_selection_arguments, select
from experiment.models import OUTCOMES


class Command(BaseCommand):
    help = (
        "Plan the next study from this one (or a pilot): the power of the declared test at --n per arm, and the n "
        "per arm for 80% and 90% power at alpha .05, by resampling each arm's observed values (fixed seed)."
    )

    def add_arguments(self, parser):
        add_selection_arguments(parser)
        parser.add_argument("--outcome", choices=OUTCOMES, default="tp")
        parser.add_argument("--n", type=int, default=30, help="Participants per arm to give the power for.")
        parser.add_argument(
            "--shift",
            type=float,
            help="A stated effect instead of the observed one: added to the first arm's values, clipped to the "
            "outcome's range (e.g. 1 = one more real threat found).",
        )
        parser.add_argument("--simulations", type=int, default=planning.SIMULATIONS)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--format", choices=["json", "text"], default="text")

    def handle(self, *args, **options):
        experiment, filters = select(options)
        if not 100 <= options["simulations"] <= 100_000:
            raise CommandError("--simulations must be 100 to 100,000.")
        try:
            result = report.plan_next_study(
                dataset.load(experiment, filters),
                options["outcome"],
                options["n"],
                options["shift"],
                options["simulations"],
                options["seed"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        if options["format"] == "json":
            self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))
        else:
            self.stdout.write(f"{result['label']}, {result['direction']}: {result['apa']}\n{result['method']}")
