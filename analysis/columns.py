"""Every exported column with its meaning, type and allowed values: the CSV headers and the codebook come from here."""

from dataclasses import dataclass

from experiment.sources import Source


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    meaning: str
    allowed: str = ""


PARTICIPANT_COLUMNS = [
    Column("participant_code", "text (UUID)", "Random code of the participant; no link to a person"),
    Column("session", "text", "Join code of the lab session"),
    Column("arm", "text", "Arm (group) the participant was assigned to", "the experiment's arm slugs"),
    Column("block", "integer", "Number of the permuted allocation block within the session and stratum", ">= 1"),
    Column("block_position", "integer", "Slot within the block (from 0)", ">= 0"),
    Column("stratum", "text", "Randomisation stratum; empty when not stratified"),
    Column("is_simulated", "boolean", "A bot from a rehearsal or simulation", "true, false"),
    Column("stage", "text", "Stage reached", "training, threats, usefulness, done"),
    Column("consented_at", "ISO 8601 UTC", "Consent given (entry questionnaire or training started)"),
    Column("assigned_at", "ISO 8601 UTC", "Arm assigned and training started; empty if not reached"),
    Column("threats_started_at", "ISO 8601 UTC", "Left the training for the threats; empty if not reached"),
    Column("usefulness_started_at", "ISO 8601 UTC", "Submitted the threat answers; empty if not reached"),
    Column("exit_started_at", "ISO 8601 UTC", "Submitted the usefulness ratings (exit questionnaire started)"),
    Column("completed_at", "ISO 8601 UTC", "Finished the lab; empty if not reached"),
    Column("training_seconds", "number", "threats_started_at - assigned_at (time on the training, server clock)"),
    Column("threats_seconds", "number", "usefulness_started_at - threats_started_at"),
    Column("usefulness_seconds", "number", "Time on the usefulness item"),
    Column("total_seconds", "number", "completed_at - consented_at"),
    Column("implausibly_fast", "boolean", "threats_seconds below the experiment's plausible minimum", "true, false"),
    Column("tp", "integer", "True positives: real threats marked applicable", "0..number of real threats"),
    Column("fn", "integer", "False negatives: real threats marked not applicable", "0..number of real threats"),
    Column("fp", "integer", "False positives: fake threats marked applicable", "0..number of fake threats"),
    Column("tn", "integer", "True negatives: fake threats marked not applicable", "0..number of fake threats"),
    Column("precision", "number", "TP / (TP + FP); empty (missing) when nothing was marked applicable", "0..1"),
    Column("recall", "number", "TP / (TP + FN)", "0..1"),
    Column("f1", "number", "2 TP / (2 TP + FP + FN)", "0..1"),
    Column("accuracy", "number", "(TP + TN) / number of threats", "0..1"),
    Column("mean_confidence", "number", "Mean of the per-threat confidence ratings; empty when not asked", "1..5"),
]
COMMENT_COLUMN = Column("comment", "text", "Free-text comment at the end; may be empty")

ANSWER_COLUMNS = [
    Column("participant_code", "text (UUID)", "Random code of the participant (joins participants.csv)"),
    Column("session", "text", "Join code of the lab session"),
    Column("arm", "text", "Arm of the participant"),
    Column("is_simulated", "boolean", "A bot from a rehearsal or simulation", "true, false"),
    Column("threat", "text", "Threat ID as shown to participants"),
    Column(
        "stride",
        "text",
        "STRIDE category of the threat",
        "spoofing, tampering, repudiation, information_disclosure, denial_of_service, elevation_of_privilege",
    ),
    Column("position", "integer", "Where the threat was shown to this participant (from 1)", "1..number of threats"),
    Column("answer", "text", "The participant's answer", "applicable, not_applicable"),
    Column("is_real", "boolean", "The answer key: a real threat", "true, false"),
    Column("outcome", "text", "The answer scored against the key", "TP, FN, FP, TN"),
    Column(
        "confidence", "integer", "How sure the participant was; empty when not asked", "1 not at all .. 5 completely"
    ),
    Column("answered_at", "ISO 8601 UTC", "When the answers were submitted"),
]


def rating_column(source: Source) -> Column:
    return Column(
        f"rating_{source.key}",
        "integer",
        f"Usefulness of '{source.label}' for the task; empty when the arm did not see it",
        "1 useless, 2 somewhat useful, 3 useful, 4 very useful, 5 very useful and could not do without",
    )


def exposure_columns(diagram_slugs: list[str]) -> list[Column]:
    columns = []
    for page in ("training", "threats"):
        columns.append(Column(f"exposure_{page}_page", "number", f"Seconds the {page} page was visible (browser)"))
        columns += [
            Column(
                f"exposure_{page}_diagram_{slug}",
                "number",
                f"Seconds the diagram '{slug}' was on screen on the {page} page (browser)",
            )
            for slug in diagram_slugs
        ]
    return columns


def item_columns(placement: str, item) -> list[Column]:
    """One column per answer a questionnaire item takes: per Likert row, else one."""
    options = item.choice_options()
    allowed = (
        ", ".join(f"{o['value']} = {o['label']}" if str(o["value"]) != o["label"] else str(o["value"]) for o in options)
        or "free text"
    )
    kind = "text" if item.kind in ("free_text", "single_choice", "percentage_bands") else "integer"
    if item.kind == "likert_rows":
        return [
            Column(f"{placement}_{item.key}_{row['key']}", kind, f"{item.text} {row['label']}", allowed)
            for row in item.rows
        ]
    return [Column(f"{placement}_{item.key}", kind, item.text, allowed)]


def participant_columns(sources: list[Source], diagram_slugs: list[str] = (), items: list = ()) -> list[Column]:
    """All participants.csv columns; ``items`` are (placement, QuestionnaireItem) pairs."""
    return [
        *PARTICIPANT_COLUMNS,
        *(rating_column(s) for s in sources),
        *exposure_columns(list(diagram_slugs)),
        *(column for placement, item in items for column in item_columns(placement, item)),
        COMMENT_COLUMN,
    ]
