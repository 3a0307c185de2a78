"""The live monitor's numbers for one session, in a constant number of queries whatever its size."""

from django.db.models import Count
from django.utils.translation import gettext as _

from experiment.models import LabSession, SessionStatus, Stage
from experiment.stages import stages_for


def snapshot(session: LabSession) -> dict:
    """Counts per stage and per arm, and each participant's stage and last activity (codes shortened).

    Stages and the status are given as values (stable, for scripts) and as labels in the active language (to show).
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
    rows = session.participants.order_by("consented_at").values_list(
        "code", "arm__name", "stage", "is_simulated", "last_activity_at"
    )
    labels = {stage.value: str(stage.label) for stage in Stage}
    return {
        "session": {
            "code": session.join_code,
            "status": session.status,
            "status_label": str(SessionStatus(session.status).label),
            "declined": session.declined_count,
        },
        "stages": stages,
        "stage_labels": [labels.get(stage, stage) for stage in stages],
        "arms": [name for _id, name in arms],
        "counts": [[counts.get((stage, arm_id), 0) for stage in stages] for arm_id, _name in arms],
        "participants": [
            {
                "code": str(code)[:8],
                "arm": arm or unassigned,
                "stage": stage,
                "stage_label": labels.get(stage, stage),
                "bot": bot,
                "last": last.isoformat(),
            }
            for code, arm, stage, bot, last in rows
        ],
    }
