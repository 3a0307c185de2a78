from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from experiment.models import Experiment
from experiment.services import sessions


class Command(BaseCommand):
    help = "Create a lab session and print its join code and URL."

    def add_arguments(self, parser):
        parser.add_argument("slug", nargs="?", help="The experiment; may be left out when there is only one.")
        parser.add_argument("--open", action="store_true", help="Open the session for students at once.")
        parser.add_argument("--closes-at", help="ISO date-time after which no student is admitted.")
        parser.add_argument("--capacity", type=int, help="The most students admitted.")
        parser.add_argument(
            "--new-participants-per-address",
            type=int,
            help="The most students joining from one address in 10 minutes (default: NEW_PARTICIPANTS_PER_ADDRESS).",
        )
        parser.add_argument("--label", default="", help="A name for instructors, e.g. 'Tuesday group'.")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="Printed before the join path.")

    def handle(self, *args, slug, open, closes_at, capacity, new_participants_per_address, label, base_url, **options):
        experiment = self._experiment(slug)
        when = None
        if closes_at:
            when = parse_datetime(closes_at)
            if when is None:
                raise CommandError(f"--closes-at {closes_at!r} is not an ISO date-time like 2026-12-01T14:00+01:00.")
            if when.tzinfo is None:
                raise CommandError("--closes-at needs a time zone offset, e.g. 2026-12-01T14:00+01:00.")
        if capacity is not None and capacity < 1:
            raise CommandError("--capacity must be 1 or more.")
        per_address = new_participants_per_address
        if per_address is not None and per_address < 1:
            raise CommandError("--new-participants-per-address must be 1 or more.")
        session = sessions.create_session(
            experiment,
            label=label,
            open_now=open,
            closes_at=when,
            capacity=capacity,
            new_participants_per_address=per_address,
        )
        url = base_url.rstrip("/") + reverse("experiment:consent", args=[session.join_code])
        self.stdout.write(f"Session {session.join_code} ({session.get_status_display()}) for {experiment.slug}")
        self.stdout.write(f"Join URL: {url}")

    def _experiment(self, slug: str | None) -> Experiment:
        if slug:
            experiment = Experiment.objects.filter(slug=slug).first()
            if experiment is None:
                raise CommandError(f"No experiment {slug!r}. Load one with: manage.py load_experiment FILE")
            return experiment
        experiments = list(Experiment.objects.all()[:2])
        if len(experiments) != 1:
            known = ", ".join(Experiment.objects.values_list("slug", flat=True)) or "none loaded"
            raise CommandError(f"Name the experiment: there are several or none ({known}).")
        return experiments[0]
