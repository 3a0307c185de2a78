"""Dumping an experiment as a definition, which loads back into the same experiment."""

import copy
from typing import Any

from experiment.definition import analysis_plan
from experiment.definition.translations import FIELDS as TRANSLATED
from experiment.definition.translations import join as join_translations
from experiment.definition.validate import SCHEMA_VERSION, SHEET_FIELDS
from experiment.models import Experiment


def dump(experiment: Experiment) -> dict:
    """The definition of an experiment, with SVGs inline and translated texts joined back into their fields.

    ``load(validate(dump(e)))`` recreates the experiment. Confidence, reading times, questionnaires and strata at
    their defaults are left out, so a definition without them dumps as it was written.
    """
    scenario = experiment.scenario
    return {
        "schema_version": SCHEMA_VERSION,
        "experiment": _translated(
            experiment,
            ("experiment",),
            {
                "slug": experiment.slug,
                "title": experiment.title,
                "participant_title": experiment.participant_title,
                "description": experiment.description,
                "hypothesis": experiment.hypothesis,
                "debrief_html": experiment.debrief_html,
                "debrief_shown": experiment.debrief_shown,
                "information_sheet": _dump_sheet(experiment),
                "arms": [
                    {"slug": arm.slug, "name": arm.name, "diagrams": [d.slug for d in arm.shown_diagrams()]}
                    for arm in experiment.arms.order_by("position")
                ],
                **_dump_options(experiment),
            },
        ),
        "scenario": _translated(
            scenario,
            ("scenario",),
            {
                "slug": scenario.slug,
                "title": scenario.title,
                "task_html": scenario.task_html,
                "sections": [
                    _translated(
                        s,
                        ("scenario", "sections"),
                        {"title": s.title, "body_html": s.body_html, "video_url": s.video_url},
                    )
                    for s in scenario.sections.all()
                ],
                "diagrams": [
                    _translated(
                        d,
                        ("scenario", "diagrams"),
                        {
                            "slug": d.slug,
                            "kind": d.kind,
                            "title": d.title,
                            "svg": d.svg,
                            "text_alternative": d.text_alternative,
                            "terms": copy.deepcopy(d.terms),
                        },
                    )
                    for d in scenario.diagrams.all()
                ],
                "threats": [
                    _translated(
                        t,
                        ("scenario", "threats"),
                        {
                            "ref": t.ref,
                            "title": t.title,
                            "description": t.description,
                            "stride": t.stride,
                            "assumptions": t.assumptions,
                            "affected_components": t.affected_components,
                            "is_real": t.is_real,
                            "rationale": t.rationale,
                            "source": t.source,
                        },
                    )
                    for t in scenario.threats.all()
                ],
            },
        ),
    }


def _dump_sheet(experiment: Experiment) -> dict:
    sheet = experiment.information_sheet
    return _translated(
        sheet,
        ("experiment", "information_sheet"),
        {
            "version": sheet.version,
            **({"example": True} if sheet.is_example else {}),
            **{name: getattr(sheet, name) for name in SHEET_FIELDS},
            "statements": [
                _translated(
                    s,
                    ("experiment", "information_sheet", "statements"),
                    {"key": s.key, "text": s.text, "required": s.required},
                )
                for s in sheet.statements.all()
            ],
        },
    )


def _translated(model, path: tuple[str, ...], data: dict) -> dict:
    return join_translations(data, model.translations, TRANSLATED[path])


def _dump_options(experiment: Experiment) -> dict:
    """The optional parts, only where they differ from the defaults (so a plain definition dumps as it was)."""
    options: dict[str, Any] = {}
    if experiment.ask_confidence:
        options["ask_confidence"] = True
    for key in ("min_training_seconds", "min_plausible_threats_seconds"):
        if getattr(experiment, key):
            options[key] = getattr(experiment, key)
    questionnaires = [
        _translated(
            q,
            ("experiment", "questionnaires"),
            {
                "placement": q.placement,
                "title": q.title,
                "intro": q.intro,
                "items": [
                    _translated(
                        i,
                        ("experiment", "questionnaires", "items"),
                        {
                            "key": i.key,
                            "kind": i.kind,
                            "text": i.text,
                            "options": copy.deepcopy(i.options),
                            "rows": copy.deepcopy(i.rows),
                            "required": i.required,
                        },
                    )
                    for i in q.items.all()
                ],
            },
        )
        for q in experiment.questionnaires.order_by("placement")
    ]
    if questionnaires:
        options["questionnaires"] = questionnaires
    if experiment.stratify_item:
        options["stratify"] = {"item": experiment.stratify_item, "strata": experiment.strata}
    plan = analysis_plan.dumped(
        experiment.equivalence_margins, experiment.holm_family, experiment.stratify_analysis_by_session
    )
    if plan != analysis_plan.dumped({}, list(analysis_plan.DEFAULT_HOLM_FAMILY)):
        options["analysis"] = plan
    return options
