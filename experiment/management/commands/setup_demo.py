import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from experiment.models import Experiment, LabSession, SessionStatus
from experiment.services import sessions

DEMO_LABEL = "Demo session"


class Command(BaseCommand):
    help = "First run: an admin account and an open demo session; prints the student and admin URLs."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The experiment for the demo session.")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, slug: str, base_url: str, **options):
        experiment = Experiment.objects.filter(slug=slug).first()
        if experiment is None:
            raise CommandError(f"No experiment {slug!r}; load it first with manage.py load_experiment.")
        self._ensure_admin()
        session = LabSession.objects.filter(
            experiment=experiment, label=DEMO_LABEL, status=SessionStatus.OPEN
        ).first() or sessions.create_session(experiment, label=DEMO_LABEL, open_now=True)
        base = base_url.rstrip("/")
        self.stdout.write(f"Students join at: {base}{reverse('experiment:consent', args=[session.join_code])}")
        self.stdout.write(f"  (or at {base}/ with the code {session.join_code})")
        self.stdout.write(f"Admin:            {base}{reverse('admin:index')}")

    def _ensure_admin(self) -> None:
        User = get_user_model()
        username = os.environ.get("ADMIN_USERNAME", "admin")
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Admin account {username!r} exists (password unchanged).")
            return
        password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        shown = "from ADMIN_PASSWORD" if "ADMIN_PASSWORD" in os.environ else f"password {password} (shown once)"
        self.stdout.write(f"Created admin account {username!r}, {shown}.")
