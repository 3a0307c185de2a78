"""The participants and answers as pandas DataFrames for researchers' notebooks, with the codebook's columns and
types: the rows of participants.csv and answers.csv (analysis.exports), each column typed by its codebook type.

The CSV exports do not build on these: a DataFrame holds every row at once, where the streamed export of a million
answers stays under its 200 MB peak by holding one chunk (docs/performance.md). Text cells are as the CSV has them,
so one a spreadsheet would run as a formula keeps its leading apostrophe.
"""

import pandas as pd

from analysis import exports
from analysis.columns import ANSWER_COLUMNS, Column, participant_columns
from analysis.dataset import Filters
from experiment.models import Experiment

# Codebook type -> pandas dtype; a missing value (an empty cell) is <NA> or NaT in each.
DTYPES = {
    "integer": "Int64",
    "number": "Float64",
    "boolean": "boolean",
    "text": "string",
    "text (UUID)": "string",
}


def _typed(rows, columns: list[Column]) -> pd.DataFrame:
    header = next(rows)
    frame = pd.DataFrame(list(rows), columns=header, dtype=object)
    types = {column.name: column.type for column in columns}
    for name in frame.columns:
        kind = types.get(name, "text")
        values = frame[name].replace("", None)
        if kind == "ISO 8601 UTC":
            frame[name] = pd.to_datetime(values, utc=True, format="ISO8601")
        elif kind == "boolean":
            frame[name] = values.map({"true": True, "false": False, True: True, False: False}).astype("boolean")
        elif kind in ("integer", "number"):
            frame[name] = pd.to_numeric(values).astype(DTYPES[kind])
        else:
            frame[name] = values.astype("string")
    return frame


def participants(experiment: Experiment, filters: Filters | None = None) -> pd.DataFrame:
    """One row per participant, the columns of participants.csv (see the codebook)."""
    sources, diagram_slugs, items = exports.layout(experiment)
    columns = participant_columns(sources, diagram_slugs, items)
    return _typed(exports.participant_rows(experiment, filters or Filters()), columns)


def answers(experiment: Experiment, filters: Filters | None = None) -> pd.DataFrame:
    """One row per participant and threat, the columns of answers.csv (see the codebook)."""
    return _typed(exports.answer_rows(experiment, filters or Filters()), ANSWER_COLUMNS)
