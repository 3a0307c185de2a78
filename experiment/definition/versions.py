"""Definitions written for an older schema version, read as the current one: what an older version lacks gets its
default here, before the definition is validated."""

import copy

from experiment.definition.blinding import DEFAULT_TERMS


def upgrade(data: dict, version: int) -> None:
    """Bring a parsed definition of schema ``version`` up to the current one, in place, before its translations are
    split.

    Version 1 had no participant-facing title and no diagram terms: participants read the scenario's title (in each
    of its languages), and each diagram is named by the default terms of its kind (blinding.DEFAULT_TERMS).
    Anything malformed is left for validation to report.
    """
    if version >= 2:
        return
    experiment, scenario = data.get("experiment"), data.get("scenario")
    if not isinstance(scenario, dict):
        return
    if isinstance(experiment, dict) and "participant_title" not in experiment and "title" in scenario:
        experiment["participant_title"] = copy.deepcopy(scenario["title"])
    diagrams = scenario.get("diagrams")
    for diagram in diagrams if isinstance(diagrams, list) else []:
        if isinstance(diagram, dict) and "terms" not in diagram:
            kind = diagram.get("kind")
            diagram["terms"] = copy.deepcopy(DEFAULT_TERMS.get(kind, {}) if isinstance(kind, str) else {})
