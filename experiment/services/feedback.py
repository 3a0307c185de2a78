"""Releasing participants' feedback (their answers beside the answer key) for closed lab sessions, and undoing it.

Release is per session and set when it happens: a session created or reopened later is not covered, so a later lab
group never sees the key. Each release and undo is written to the admin log (the session's history page).
"""

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone

from experiment.models import Experiment, LabSession, Participant, SessionStatus, Stage

RELEASED = "Released feedback"
WITHDRAWN = "Withdrew feedback"


def closed() -> Q:
    """Sessions that take no new students: closed by an instructor, or past their closing time."""
    return Q(status=SessionStatus.CLOSED) | Q(closes_at__lte=timezone.now())


def still_working(sessions) -> int:
    """How many real students in ``sessions`` have not finished: they would see classmates' keys if released now."""
    return Participant.objects.real().filter(session__in=list(sessions)).exclude(stage=Stage.DONE).count()


def releasable(experiment: Experiment):
    """The experiment's closed sessions whose feedback is not released: what "release for all" covers right now."""
    return experiment.sessions.filter(closed(), feedback_released_at__isnull=True).order_by("created_at")


def release(sessions, user) -> list[LabSession]:
    """Release feedback for those of ``sessions`` that are closed and not yet released; return them.

    A conditional update: a session reopened since the page was shown, or released by someone else meanwhile, is
    left as it is.
    """
    ids = [session.pk for session in sessions]
    now = timezone.now()
    candidates = LabSession.objects.filter(closed(), pk__in=ids, feedback_released_at__isnull=True)
    chosen = list(candidates.values_list("pk", flat=True))
    LabSession.objects.filter(closed(), pk__in=chosen, feedback_released_at__isnull=True).update(
        feedback_released_at=now
    )
    released = list(LabSession.objects.filter(pk__in=chosen, feedback_released_at=now))
    _log(user, released, RELEASED)
    return released


def withdraw(session: LabSession, user) -> bool:
    """Hide the session's feedback again; False if it was not released."""
    withdrawn = LabSession.objects.filter(pk=session.pk, feedback_released_at__isnull=False).update(
        feedback_released_at=None
    )
    if withdrawn:
        _log(user, [session], WITHDRAWN)
    return bool(withdrawn)


def _log(user, sessions: list[LabSession], message: str) -> None:
    if sessions:
        LogEntry.objects.log_actions(
            user_id=user.pk,
            queryset=sessions,
            action_flag=CHANGE,
            change_message=message,
            single_object=len(sessions) == 1,
        )


def history(session: LabSession):
    """The session's releases and undos, newest first."""
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(LabSession),
        object_id=str(session.pk),
        change_message__in=[RELEASED, WITHDRAWN],
    ).select_related("user")
