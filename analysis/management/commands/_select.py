"""Shared by analyze and export_results: pick the experiment and the filters from the command line."""

import math

from django.core.management.base import CommandError

from analysis.dataset import Filters
from experiment.codes import normalise_join_code
from experiment.models import OUTCOMES, Experiment, LabSession


def add_selection_arguments(parser) -> None:
    parser.add_argument("--experiment", help="The experiment's slug; may be left out when --session names one.")
    parser.add_argument("--session", action="append", default=[], help="A session's join code (repeatable).")
    parser.add_argument("--include-simulated", action="store_true", help="Count bots too.")
    parser.add_argument("--include-incomplete", action="store_true", help="Count participants who did not finish.")
    parser.add_argument("--exclude-fast", action="store_true", help="Leave out implausibly fast participants.")
    parser.add_argument("--stratum", help="Only this randomisation stratum.")
    parser.add_argument("--arm", action="append", default=[], help="Compare only this arm's slug (repeatable).")
    parser.add_argument(
        "--margin",
        action="append",
        default=[],
        metavar="OUTCOME=VALUE",
        help="Equivalence margin for an outcome in its units, instead of the declared one (repeatable), e.g. tp=1.",
    )


def margins(options) -> dict[str, float]:
    """The --margin options as report.build's overrides; CommandError for an unknown outcome or a bad value."""
    chosen = {}
    for text in options["margin"]:
        key, _sep, value = text.partition("=")
        if key not in OUTCOMES:
            raise CommandError(f"--margin {text}: no outcome {key!r}; use one of {', '.join(OUTCOMES)}.")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not 0 < number <= 1_000_000:
            raise CommandError(f"--margin {text}: the margin must be a number above 0 and at most 1,000,000.")
        chosen[key] = number
    return chosen


def select(options) -> tuple[Experiment, Filters]:
    codes = [normalise_join_code(code) for code in options["session"]]
    sessions = list(LabSession.objects.filter(join_code__in=codes).select_related("experiment"))
    unknown = sorted(set(codes) - {s.join_code for s in sessions})
    if unknown:
        raise CommandError(f"No session has the join code(s): {', '.join(unknown)}.")
    if options["experiment"]:
        experiment = Experiment.objects.filter(slug=options["experiment"]).first()
        if experiment is None:
            known = ", ".join(Experiment.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"No experiment {options['experiment']!r}. Known: {known}.")
    elif sessions:
        experiment = sessions[0].experiment
    elif Experiment.objects.count() == 1:
        experiment = Experiment.objects.get()
    else:
        raise CommandError("Name the experiment (--experiment SLUG) or a session (--session CODE).")
    foreign = [s.join_code for s in sessions if s.experiment_id != experiment.pk]
    if foreign:
        raise CommandError(f"Session(s) {', '.join(foreign)} belong to another experiment than {experiment.slug}.")
    arms = dict(experiment.arms.values_list("slug", "pk"))
    unknown_arms = sorted(set(options["arm"]) - set(arms))
    if unknown_arms:
        raise CommandError(f"No arm {', '.join(unknown_arms)} in {experiment.slug}; its arms: {', '.join(arms)}.")
    filters = Filters(
        session_ids=tuple(s.pk for s in sessions),
        arm_ids=tuple(arms[slug] for slug in options["arm"]),
        include_simulated=options["include_simulated"],
        include_incomplete=options["include_incomplete"],
        exclude_fast=options["exclude_fast"],
        stratum=options["stratum"],
    )
    return experiment, filters
