from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from experiment.bots import PROFILES, BotError, ClientTransport, HttpTransport
from experiment.codes import normalise_join_code
from experiment.models import LabSession
from experiment.rehearsal import simulate


def _local_host() -> str:
    hosts = [h for h in settings.ALLOWED_HOSTS if h not in ("*",) and not h.startswith(".")]
    return hosts[0] if hosts else "localhost"


class Command(BaseCommand):
    help = "Drive N simulated participants through a session's real HTTP flow (marked as simulated)."

    def add_arguments(self, parser):
        parser.add_argument("--session", required=True, help="The session's join code.")
        parser.add_argument("-n", type=int, default=10, help="How many participants.")
        parser.add_argument("--seed", type=int, help="Seed for the bots' answers (the arms stay truly random).")
        parser.add_argument("--profile", choices=PROFILES, default="random")
        parser.add_argument("--margin", type=float, default=0.25, help="diagram_helps: extra accuracy with a DFD.")
        parser.add_argument("--base-url", help="A running server; by default the bots run in-process.")

    def handle(self, *args, session, n, seed, profile, margin, base_url, **options):
        lab = LabSession.objects.filter(join_code=normalise_join_code(session)).first()
        if lab is None:
            raise CommandError(f"No session has the join code {session!r}.")
        if n < 1:
            raise CommandError("-n must be 1 or more.")
        if not 0 <= margin <= 0.4:
            raise CommandError("--margin must be between 0 and 0.4 (accuracy 0.6 + margin).")
        if base_url:
            factory = lambda: HttpTransport(base_url)  # noqa: E731
        else:
            factory = lambda: ClientTransport(_local_host(), secure=settings.SECURE_SSL_REDIRECT)  # noqa: E731
        try:
            results = simulate(lab, n, profile=profile, seed=seed, margin=margin, transport_factory=factory)
        except BotError as error:
            raise CommandError(f"A bot could not finish: {error}") from None
        self.stdout.write(f"{len(results)} simulated participants ({profile}) completed session {lab.join_code}.")
