"""The information sources a participant rates for usefulness, in the original questionnaire's order."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from threats.models import Diagram


@dataclass(frozen=True)
class Source:
    key: str
    label: str


SCENARIO_TEXT = Source("scenario_text", _("Scenario description"))
THREAT_SOURCES = (
    Source("threat_description", _("Threat description")),
    Source("stride_category", _("STRIDE category")),
    Source("assumptions", _("Assumptions")),
    Source("affected_components", _("Affected components")),
)


def diagram_source(diagram: Diagram) -> Source:
    return Source(f"diagram_{diagram.slug}", diagram.tr("title"))


def sources_for(diagrams: list[Diagram]) -> list[Source]:
    """Scenario text, then each diagram the arm saw, then the parts of a threat."""
    return [SCENARIO_TEXT, *(diagram_source(d) for d in diagrams), *THREAT_SOURCES]
