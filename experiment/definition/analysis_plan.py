"""The analysis plan a definition declares (``experiment.analysis``): equivalence margins and the Holm family.

```json
"analysis": {
  "equivalence_margins": {"tp": {"margin": 1, "rationale": "one of the five real threats"}},
  "holm_family": ["tp", "fp", "precision"],
  "stratify_by_session": false
}
```

Margins are in each outcome's own units (threats for the counts, a share for the proportions); an outcome without
one gets no equivalence test. ``stratify_by_session``: the stratified tests take each session (a lab, a site) as a
stratum besides the randomisation's. Definitions that declare no plan (every file of schema version 1) get ``DEFAULTS``.
"""

import json
from typing import Any

from experiment.models import OUTCOMES, default_holm_family

DEFAULT_HOLM_FAMILY = tuple(default_holm_family())
MAX_MARGIN = 1_000_000
MAX_RATIONALE = 1000


def check(problems: list[str], exp: dict, where: str) -> None:
    """Append a problem for each part of ``exp["analysis"]`` that is not a valid plan."""
    if "analysis" not in exp:
        return
    plan = exp["analysis"]
    here = f"{where}.analysis"
    if not isinstance(plan, dict):
        problems.append(f"{here}: expected an object")
        return
    for key in sorted(set(plan) - {"equivalence_margins", "holm_family", "stratify_by_session"}):
        problems.append(f"{here}.{key}: unknown; a plan has equivalence_margins, holm_family and stratify_by_session")
    if not isinstance(plan.get("stratify_by_session", False), bool):
        problems.append(f"{here}.stratify_by_session: expected true or false")
    margins = plan.get("equivalence_margins", {})
    if not isinstance(margins, dict):
        problems.append(f"{here}.equivalence_margins: expected an object")
        margins = {}
    for outcome, entry in margins.items():
        place = f"{here}.equivalence_margins.{outcome}"
        if outcome not in OUTCOMES:
            problems.append(f"{place}: not an outcome; use one of {', '.join(OUTCOMES)}")
        if not isinstance(entry, dict):
            problems.append(f"{place}: expected an object with margin and rationale")
            continue
        margin = entry.get("margin")
        if isinstance(margin, bool) or not isinstance(margin, int | float) or not 0 < margin <= MAX_MARGIN:
            problems.append(f"{place}.margin: expected a number above 0 and at most {MAX_MARGIN:,}")
        rationale = entry.get("rationale", "")
        if not isinstance(rationale, str) or len(rationale) > MAX_RATIONALE:
            problems.append(f"{place}.rationale: expected text of at most {MAX_RATIONALE} characters")
    family = plan.get("holm_family", list(DEFAULT_HOLM_FAMILY))
    if not isinstance(family, list):
        problems.append(f"{here}.holm_family: expected a list of outcomes")
        return
    for i, outcome in enumerate(family):
        if outcome not in OUTCOMES:
            problems.append(f"{here}.holm_family[{i}]: {json.dumps(outcome)[:60]} is not one of {', '.join(OUTCOMES)}")
    if len(set(map(str, family))) < len(family):
        problems.append(f"{here}.holm_family: an outcome appears more than once")


def fields(exp: dict) -> dict[str, Any]:
    """The Experiment fields of a checked definition's plan, defaults for what it leaves out."""
    plan = exp.get("analysis", {})
    return {
        "equivalence_margins": {
            outcome: {"margin": float(entry["margin"]), "rationale": entry.get("rationale", "")}
            for outcome, entry in plan.get("equivalence_margins", {}).items()
        },
        "holm_family": list(plan.get("holm_family", DEFAULT_HOLM_FAMILY)),
        "stratify_analysis_by_session": plan.get("stratify_by_session", False),
    }


def dumped(equivalence_margins: dict, holm_family: list, stratify_by_session: bool = False) -> dict:
    """The plan of an experiment as a definition declares it."""
    return {
        "equivalence_margins": equivalence_margins,
        "holm_family": holm_family,
        "stratify_by_session": stratify_by_session,
    }
