"""The live monitor's numbers for one session, in a constant number of queries whatever its size."""

from django.db.models import Count

from experiment.models import LabSession, Stage
from experiment.services import stages_for

UNASSIGNED = "(not yet assigned)"


def snapshot(session: LabSession) -> dict:
    """Counts per stage and per arm, and each participant's stage and last activity (codes shortened)."""
    stages = [str(stage) for stage in stages_for(session.experiment)]
    arms = list(session.experiment.arms.order_by("position").values_list("id", "name"))
    if Stage.ENTRY in stages:
        arms.append((None, UNASSIGNED))
    counts = {
        (row["stage"], row["arm_id"]): row["n"]
        for row in session.participants.values("stage", "arm_id").annotate(n=Count("id"))
    }
    rows = session.participants.order_by("consented_at").values_list(
        "code", "arm__name", "stage", "is_simulated", "last_activity_at"
    )
    return {
        "session": {"code": session.join_code, "status": session.status, "declined": session.declined_count},
        "stages": stages,
        "arms": [name for _id, name in arms],
        "counts": [[counts.get((stage, arm_id), 0) for stage in stages] for arm_id, _name in arms],
        "participants": [
            {"code": str(code)[:8], "arm": arm or UNASSIGNED, "stage": stage, "bot": bot, "last": last.isoformat()}
            for code, arm, stage, bot, last in rows
        ],
    }
