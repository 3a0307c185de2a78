"""The reads of the student flow: what a student page starts from and the content it shows, one query each."""

from django.db.models import QuerySet

from experiment.models import Experiment, LabSession, Participant, Placement, Questionnaire, QuestionnaireItem
from threats.models import MaterialSection, Threat


def participants_for_pages() -> QuerySet[Participant]:
    """Participants with what every student page shows of them: session, experiment, scenario and arm, in one query.

    The experiment's ``content_key`` comes with it, so a page's cached content is never older than the request.
    """
    return Participant.objects.select_related("session__experiment__scenario", "arm")


def session_by_join_code(join_code: str) -> LabSession | None:
    """The lab session with this join code, with its experiment; None when no session has it."""
    return LabSession.objects.select_related("experiment").filter(join_code=join_code).first()


def participant_by_entry_token(entry_token) -> Participant | None:
    """The participant a consent form made (its entry token), or None: a replayed consent finds it here."""
    return participants_for_pages().filter(entry_token=entry_token).first()


def threats_in_order(participant: Participant) -> list[Threat]:
    """The participant's threats in the order they were shown (``threat_order``)."""
    by_id = Threat.objects.in_bulk(participant.threat_order)
    return [by_id[threat_id] for threat_id in participant.threat_order]


def sections(experiment: Experiment) -> QuerySet[MaterialSection]:
    """The scenario's training sections, in order (lazy: a page whose block is cached never runs the query)."""
    return MaterialSection.objects.filter(scenario_id=experiment.scenario_id).order_by("position")


def questionnaire(experiment: Experiment, placement: Placement) -> tuple[Questionnaire, list[QuestionnaireItem]]:
    """The experiment's questionnaire at ``placement`` and its items in order."""
    found = Questionnaire.objects.get(experiment=experiment, placement=placement)
    return found, list(found.items.order_by("position"))
