"""The reads of the student flow: what a student page starts from and the content it shows, one query each."""

from django.db.models import F, QuerySet
from django.utils.translation import get_language

from experiment.content import kept
from experiment.models import Experiment, LabSession, Participant, Placement, Questionnaire, QuestionnaireItem
from experiment.sources import Source, sources_for
from threats.models import Diagram, Threat

# What a student page shows of a participant, and what answering also reads of it and its experiment. The page
# lookup is the one query of every student request: each column and join left out makes it cheaper to build (the
# ORM's cost grows with them), and a field left out loads with a query of its own if it is used after all.
PAGE_FIELDS = ["code", "short_code", "stage", "session_id", "arm_id", "threat_order"]
ANSWER_FIELDS = [
    *PAGE_FIELDS,
    "session__experiment__content_key",
    "exposure",
    "assigned_at",
    "session__experiment__scenario_id",
    "session__experiment__ask_confidence",
    "session__experiment__min_training_seconds",
    "session__experiment__stratify_item",
    "session__experiment__strata",
]


def participants_for_pages() -> QuerySet[Participant]:
    """Participants with what a student page shows of them, and their experiment's ``content_key``, in one query.

    The content key comes with the participant, so a page's cached content is never older than the request. The
    session and the experiment are not loaded: a page reads them (``participant.session.experiment``) only to
    render a block the content cache does not hold yet.
    """
    return Participant.objects.only(*PAGE_FIELDS).annotate(content_key=_CONTENT_KEY)


def participants_answering() -> QuerySet[Participant]:
    """As ``participants_for_pages``, with the experiment loaded and what the services read when a participant
    answers."""
    found = Participant.objects.select_related("session__experiment").only(*ANSWER_FIELDS)
    return found.annotate(content_key=_CONTENT_KEY)


_CONTENT_KEY = F("session__experiment__content_key")


def session_by_join_code(join_code: str) -> LabSession | None:
    """The lab session with this join code, with what admitting a student reads of it and its experiment; None when
    no session has it."""
    found = LabSession.objects.select_related("experiment").only(
        "status",
        "closes_at",
        "capacity",
        "new_participants_per_address",
        "experiment__content_key",
        "experiment__scenario_id",
    )
    try:
        return found.get(join_code=join_code)
    except LabSession.DoesNotExist:
        return None


def participant_by_entry_token(entry_token) -> Participant | None:
    """The participant a consent form made (its entry token), or None: a replayed consent finds it here."""
    return participants_for_pages().filter(entry_token=entry_token).first()


def threat_titles(participant: Participant) -> list[tuple[int, str]]:
    """(id, title in the active language) of the participant's threats in the order they were shown, kept per
    content key and language. Cards are titled so; the reference IDs are for researchers (admin, exports)."""

    def read() -> dict[int, str]:
        return {threat.pk: threat.tr("title") for threat in threats_in_order(participant)}

    titles = kept(participant.content_key, f"threat-titles:{get_language()}", read)
    return [(threat_id, titles[threat_id]) for threat_id in participant.threat_order]


def threats_in_order(participant: Participant) -> list[Threat]:
    """The participant's threats in the order they were shown (``threat_order``), without the answer key: whether a
    threat is real, its rationale and its source never reach a student page. Kept per content key, as field values
    made into unsaved instances for each form: every student of a class submits the same threats."""

    def read() -> dict[int, dict]:
        # Every participant's order holds all the experiment's threats (an arm preview's too, which has no session).
        threats = Threat.objects.filter(pk__in=participant.threat_order)
        return {
            row["id"]: row for row in threats.values(*_fields(Threat, leave_out={"is_real", "rationale", "source"}))
        }

    by_id = kept(participant.content_key, "threats", read)
    return [Threat(**by_id[threat_id]) for threat_id in participant.threat_order]


def usefulness_sources(participant: Participant) -> list[Source]:
    """The sources the participant rates: the scenario, the diagrams of their arm, the parts of a threat; kept per
    content key, arm and language."""

    def read() -> list[tuple[str, str]]:
        return [(source.key, str(source.label)) for source in sources_for(Diagram.objects.shown_by(participant.arm_id))]

    kept_sources = kept(participant.content_key, f"sources:{participant.arm_id}:{get_language()}", read)
    return [Source(key, label) for key, label in kept_sources]


def _fields(model, leave_out: set[str] = frozenset()) -> list[str]:
    """The model's columns, as ``values()`` names them and its constructor takes them."""
    return [field.attname for field in model._meta.concrete_fields if field.name not in leave_out]


def questionnaire(experiment: Experiment, placement: Placement) -> Questionnaire:
    """The experiment's questionnaire at ``placement``."""
    return Questionnaire.objects.get(experiment=experiment, placement=placement)


def questionnaire_items(experiment: Experiment, placement: Placement) -> list[QuestionnaireItem]:
    """The items of the experiment's questionnaire at ``placement``, in order, kept per content key.

    Kept as their field values and made into unsaved instances for each form: a class submitting its entry
    questionnaire at once would otherwise read the same items for every student.
    """

    def read() -> list[dict]:
        items = QuestionnaireItem.objects.filter(
            questionnaire__experiment=experiment, questionnaire__placement=placement
        ).order_by("position")
        return list(items.values(*_fields(QuestionnaireItem)))

    return [QuestionnaireItem(**fields) for fields in kept(experiment.content_key, f"items:{placement}", read)]
