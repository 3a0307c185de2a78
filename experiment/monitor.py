"""The live monitor's numbers for one session, in a constant number of queries whatever its size."""

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from experiment.models import LabSession, SessionStatus, Stage
from experiment.stages import stages_for

# A participant's last activity is their last finished step (stages.advance). Reading the training or judging the
# threats takes a working student a few minutes; one who has finished no step for 15 minutes is worth a look.
IDLE_MINUTES = 15


def snapshot(session: LabSession) -> dict:
    """Counts per stage and per arm with their totals, and each participant's stage, last activity and whether
    they are idle (codes shortened).

    Stages and the status are given as values (stable, for scripts) and as labels in the active language (to show).
    Times are datetimes: JSON carries them as ISO 8601 in UTC with the server's ``now``, from which the page says
    "2 minutes ago" in the browser's time zone, whatever its clock says.
    """
    unassigned = _("(not yet assigned)")
    stages = [str(stage) for stage in stages_for(session.experiment)]
    arms = list(session.experiment.arms.order_by("position").values_list("id", "name"))
    if Stage.ENTRY in stages:
        arms.append((None, unassigned))
    counts = {
        (row["stage"], row["arm_id"]): row["n"]
        for row in session.participants.values("stage", "arm_id").annotate(n=Count("id"))
    }
    table = [[counts.get((stage, arm_id), 0) for stage in stages] for arm_id, _name in arms]
    rows = session.participants.order_by("consented_at").values_list(
        "code", "arm__name", "stage", "is_simulated", "last_activity_at"
    )
    labels = {stage.value: str(stage.label) for stage in Stage}
    now = timezone.now()
    idle_before = now - timedelta(minutes=IDLE_MINUTES)
    participants = [
        {
            "code": str(code)[:8],
            "arm": arm or unassigned,
            "stage": stage,
            "stage_label": labels.get(stage, stage),
            "bot": bot,
            "last": last,
            "idle": stage != Stage.DONE and last <= idle_before,
        }
        for code, arm, stage, bot, last in rows
    ]
    return {
        "session": {
            "code": session.join_code,
            "status": session.status,
            "status_label": str(SessionStatus(session.status).label),
            "declined": session.declined_count,
        },
        "now": now,
        "idle_minutes": IDLE_MINUTES,
        "stages": stages,
        "stage_labels": [labels.get(stage, stage) for stage in stages],
        "arms": [name for _id, name in arms],
        "counts": table,
        "arm_totals": [sum(row) for row in table],
        "stage_totals": [sum(column) for column in zip(*table, strict=True)] if table else [0] * len(stages),
        "total": len(participants),
        "idle": sum(p["idle"] for p in participants),
        "participants": participants,
    }
