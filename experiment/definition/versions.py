"""Definitions written for an older schema version, read as the current one: what an older version lacks gets its
default here, before the definition is validated."""

import copy

from experiment.definition.blinding import DEFAULT_TERMS
from experiment.definition.examples import EXAMPLE_DEBRIEF_HTML, EXAMPLE_SHEET


def upgrade(data: dict, version: int) -> None:
    """Bring a parsed definition of schema ``version`` up to the current one, in place, before its translations are
    split.

    Version 1 had no participant-facing title and no diagram terms: participants read the scenario's title (in each
    of its languages), and each diagram is named by the default terms of its kind (blinding.DEFAULT_TERMS).
    Versions 1 to 3 had no information sheet and no debrief: they get the example sheet (marked as an example, so
    loading warns that it must be replaced) and the example debrief, shown with the feedback.
    Anything malformed is left for validation to report.
    """
    experiment = data.get("experiment")
    if version < 4 and isinstance(experiment, dict):
        experiment.setdefault("information_sheet", copy.deepcopy(EXAMPLE_SHEET))
        experiment.setdefault("debrief_html", copy.deepcopy(EXAMPLE_DEBRIEF_HTML))
    if version >= 2:
        return
    scenario = data.get("scenario")
    if not isinstance(scenario, dict):
        return
    if isinstance(experiment, dict) and "participant_title" not in experiment and "title" in scenario:
        experiment["participant_title"] = copy.deepcopy(scenario["title"])
    diagrams = scenario.get("diagrams")
    for diagram in diagrams if isinstance(diagrams, list) else []:
        if isinstance(diagram, dict) and "terms" not in diagram:
            kind = diagram.get("kind")
            diagram["terms"] = copy.deepcopy(DEFAULT_TERMS.get(kind, {}) if isinstance(kind, str) else {})
