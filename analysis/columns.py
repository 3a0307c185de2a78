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
    Column("consented_at", "ISO 8601 UTC", "Consent given (and training started)"),
    Column("threats_started_at", "ISO 8601 UTC", "Left the training for the threats; empty if not reached"),
    Column("usefulness_started_at", "ISO 8601 UTC", "Submitted the threat answers; empty if not reached"),
    Column("completed_at", "ISO 8601 UTC", "Submitted the usefulness ratings; empty if not reached"),
    Column("training_seconds", "number", "threats_started_at - consented_at"),
    Column("threats_seconds", "number", "usefulness_started_at - threats_started_at"),
    Column("usefulness_seconds", "number", "completed_at - usefulness_started_at"),
    Column("total_seconds", "number", "completed_at - consented_at"),
    Column("tp", "integer", "True positives: real threats marked applicable", "0..number of real threats"),
    Column("fn", "integer", "False negatives: real threats marked not applicable", "0..number of real threats"),
    Column("fp", "integer", "False positives: fake threats marked applicable", "0..number of fake threats"),
    Column("tn", "integer", "True negatives: fake threats marked not applicable", "0..number of fake threats"),
    Column("precision", "number", "TP / (TP + FP); empty (missing) when nothing was marked applicable", "0..1"),
    Column("recall", "number", "TP / (TP + FN)", "0..1"),
    Column("f1", "number", "2 TP / (2 TP + FP + FN)", "0..1"),
    Column("accuracy", "number", "(TP + TN) / number of threats", "0..1"),
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
    Column("answered_at", "ISO 8601 UTC", "When the answers were submitted"),
]


def rating_column(source: Source) -> Column:
    return Column(
        f"rating_{source.key}",
        "integer",
        f"Usefulness of '{source.label}' for the task; empty when the arm did not see it",
        "1 useless, 2 somewhat useful, 3 useful, 4 very useful, 5 very useful and could not do without",
    )


def participant_columns(sources: list[Source]) -> list[Column]:
    return [*PARTICIPANT_COLUMNS, *(rating_column(s) for s in sources), COMMENT_COLUMN]
