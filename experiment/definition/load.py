"""Loading a validated definition into the database: all or nothing, never over an experiment in use."""

from django.db import transaction
from django.utils.translation import gettext as _

from experiment.content import renew_key
from experiment.definition import analysis_plan
from experiment.definition.validate import SHEET_FIELDS, DefinitionError
from experiment.models import (
    Arm,
    ArmDiagram,
    ConsentStatement,
    DebriefShown,
    Experiment,
    Hypothesis,
    InformationSheet,
    Participant,
    Questionnaire,
    QuestionnaireItem,
)
from threats.models import Diagram, MaterialSection, Scenario, Threat


@transaction.atomic
def load(data: dict) -> Experiment:
    """Create or replace the experiment and scenario of a definition that ``validate`` returned.

    Refuses (DefinitionError) to replace an experiment or scenario that participants have already answered. Writes
    in one transaction, so a failure leaves the database as it was. Any other experiment on the same scenario is
    deleted with it. The new experiment gets a new content key.
    """
    exp_data, scen_data = data["experiment"], data["scenario"]
    problems = []
    if Participant.objects.filter(session__experiment__slug=exp_data["slug"]).exists():
        problems.append(
            f"experiment.slug: {exp_data['slug']} already has participants; give the new version a new slug"
        )
    if Participant.objects.filter(session__experiment__scenario__slug=scen_data["slug"]).exists():
        problems.append(f"scenario.slug: {scen_data['slug']} already has participants; give the new version a new slug")
    if problems:
        raise DefinitionError(problems)
    Experiment.objects.filter(slug=exp_data["slug"]).delete()
    Experiment.objects.filter(scenario__slug=scen_data["slug"]).delete()
    Scenario.objects.filter(slug=scen_data["slug"]).delete()

    scenario = Scenario.objects.create(
        slug=scen_data["slug"],
        title=scen_data["title"],
        task_html=scen_data["task_html"],
        translations=scen_data.get("translations", {}),
    )
    MaterialSection.objects.bulk_create(
        MaterialSection(
            scenario=scenario,
            position=i,
            title=s["title"],
            body_html=s["body_html"],
            video_url=s.get("video_url", ""),
            translations=s.get("translations", {}),
        )
        for i, s in enumerate(scen_data["sections"], start=1)
    )
    diagrams = {
        d["slug"]: Diagram.objects.create(
            scenario=scenario,
            slug=d["slug"],
            kind=d["kind"],
            title=d["title"],
            svg=d["svg"],
            text_alternative=d["text_alternative"],
            terms=d["terms"],
            translations=d.get("translations", {}),
        )
        for d in scen_data["diagrams"]
    }
    Threat.objects.bulk_create(
        Threat(
            scenario=scenario,
            position=i,
            ref=t["ref"],
            title=t["title"],
            description=t["description"],
            stride=t["stride"],
            assumptions=t["assumptions"],
            affected_components=t["affected_components"],
            is_real=t["is_real"],
            rationale=t.get("rationale", ""),
            source=t.get("source", ""),
            translations=t.get("translations", {}),
        )
        for i, t in enumerate(scen_data["threats"], start=1)
    )
    stratify = exp_data.get("stratify") or {}
    experiment = Experiment.objects.create(
        ask_confidence=exp_data.get("ask_confidence", False),
        min_training_seconds=exp_data.get("min_training_seconds", 0),
        min_plausible_threats_seconds=exp_data.get("min_plausible_threats_seconds", 0),
        stratify_item=stratify.get("item", ""),
        strata=stratify.get("strata", {}),
        slug=exp_data["slug"],
        title=exp_data["title"],
        participant_title=exp_data["participant_title"],
        description=exp_data.get("description", ""),
        scenario=scenario,
        hypothesis=exp_data.get("hypothesis", Hypothesis.TWO_SIDED),
        debrief_html=exp_data["debrief_html"],
        debrief_shown=exp_data.get("debrief_shown", DebriefShown.WITH_FEEDBACK),
        translations=exp_data.get("translations", {}),
        **analysis_plan.fields(exp_data),
    )
    _load_sheet(experiment, exp_data["information_sheet"])
    for position, a in enumerate(exp_data["arms"], start=1):
        arm = Arm.objects.create(experiment=experiment, slug=a["slug"], name=a["name"], position=position)
        ArmDiagram.objects.bulk_create(
            ArmDiagram(arm=arm, diagram=diagrams[slug], position=i) for i, slug in enumerate(a["diagrams"], start=1)
        )
    for q in exp_data.get("questionnaires", []):
        questionnaire = Questionnaire.objects.create(
            experiment=experiment,
            placement=q["placement"],
            title=q["title"],
            intro=q.get("intro", ""),
            translations=q.get("translations", {}),
        )
        QuestionnaireItem.objects.bulk_create(
            QuestionnaireItem(
                questionnaire=questionnaire,
                key=item["key"],
                position=position,
                kind=item["kind"],
                text=item["text"],
                options=item.get("options", []),
                rows=item.get("rows", []),
                required=item.get("required", True),
                translations=item.get("translations", {}),
            )
            for position, item in enumerate(q["items"], start=1)
        )
    # The one explicit renewal every save of content makes (experiment/content.py), rather than relying on the
    # column default of a row that this function happens to create anew.
    renew_key([experiment.pk])
    return experiment


def _load_sheet(experiment: Experiment, data: dict) -> None:
    sheet = InformationSheet.objects.create(
        experiment=experiment,
        version=data["version"],
        is_example=data.get("example", False),
        **{name: data[name] for name in SHEET_FIELDS},
        translations=data.get("translations", {}),
    )
    ConsentStatement.objects.bulk_create(
        ConsentStatement(
            sheet=sheet,
            key=statement["key"],
            position=position,
            text=statement["text"],
            required=statement.get("required", True),
            translations=statement.get("translations", {}),
        )
        for position, statement in enumerate(data["statements"], start=1)
    )


def warnings(experiment: Experiment) -> list[str]:
    """What a loaded experiment should not take to real participants as it is: an example information sheet (the
    shipped definitions' sheet, and the one an older definition without a sheet gets)."""
    sheet = experiment.information_sheet
    if not sheet.is_example:
        return []
    return [
        _(
            "experiment.information_sheet: the example sheet (version %(version)s). Replace its researchers, "
            "contact, ethics approval and data use with your study's own before real participants take part."
        )
        % {"version": sheet.version}
    ]
