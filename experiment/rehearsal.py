"""Run bots against a lab session: rehearsals from admin, simulations from the shell."""

import random
from collections.abc import Callable

from experiment.bots import BotResult, ClientTransport, Transport, run_bot
from experiment.models import Arm, LabSession, Participant
from threats.models import DiagramKind


def simulate(
    session: LabSession,
    n: int,
    *,
    profile: str = "random",
    seed: int | None = None,
    margin: float = 0.25,
    transport_factory: Callable[[], Transport] = ClientTransport,
) -> list[BotResult]:
    """Drive ``n`` bots through the session one after another; each result names the participant it became."""
    rng = random.Random(seed)
    key = dict(session.experiment.scenario.threats.values_list("id", "is_real"))
    dfd_arms = set(
        Arm.objects.filter(experiment=session.experiment, diagram_links__diagram__kind=DiagramKind.DFD).values_list(
            "id", flat=True
        )
    )

    def sees_dfd(code: str) -> bool:
        return Participant.objects.filter(code=code, arm_id__in=dfd_arms).exists()

    return [run_bot(transport_factory(), session.join_code, profile, rng, key, sees_dfd, margin) for _ in range(n)]
