"""What a student request starts from: the participant (by its code) or the lab session (by its join code), with the
experiment's content from the worker's snapshot (experiment/content.py).

Each lookup is one query whose SQL is written once per worker. Through the ORM (``select_related`` of the session
and the experiment, or ``.first()``) a lookup cost up to a millisecond of Python per request, most of it compiling
the same SQL again. These queries name the same columns, and each row becomes an instance through a reader made
once per model (``_reader``): the ORM's own conversions of each column, without ``Model.objects.raw`` working out
the columns' order and converters again on every query (0.24 ms of CPU per participant lookup through ``raw``,
0.11 ms through the reader). The participant's session comes back with only its id and experiment (other fields
load on first use); the experiment and the arm are the snapshot's.

On PostgreSQL each lookup is also a prepared statement, prepared once per connection: PostgreSQL then parses and
plans the three-table join once instead of on every request (0.21 ms of its CPU per lookup against 0.08 ms).
"""

import functools
import uuid
from collections.abc import Callable, Sequence

from django.db import connection
from django.db.models import Field, Model
from django.db.models.expressions import Col

from experiment.content import Content, content_for
from experiment.models import Experiment, LabSession, Participant


def columns(model, alias: str) -> str:
    """The model's columns, quoted, from the table named ``alias``: what ``prepared_instances`` reads."""
    return ", ".join(f"{alias}.{connection.ops.quote_name(field.column)}" for field in model._meta.concrete_fields)


@functools.cache
def _participant_sql(vendor: str, key: str) -> str:
    """The participant whose ``key`` column matches, with its experiment's id and content key."""
    quote = connection.ops.quote_name
    participant, session, experiment = Participant._meta, LabSession._meta, Experiment._meta
    return (
        f"SELECT {columns(Participant, 'p')}, s.{quote('experiment_id')} AS experiment_ref, "
        f"e.{quote('content_key')} AS content_ref "
        f"FROM {quote(participant.db_table)} p "
        f"JOIN {quote(session.db_table)} s ON s.{quote('id')} = p.{quote('session_id')} "
        f"JOIN {quote(experiment.db_table)} e ON e.{quote('id')} = s.{quote('experiment_id')} "
        f"WHERE p.{quote(key)} = %s"
    )


@functools.cache
def _session_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    session, experiment = LabSession._meta, Experiment._meta
    return (
        f"SELECT {columns(LabSession, 's')}, e.{quote('content_key')} AS content_ref "
        f"FROM {quote(session.db_table)} s "
        f"JOIN {quote(experiment.db_table)} e ON e.{quote('id')} = s.{quote('experiment_id')} "
        f"WHERE s.{quote('join_code')} = %s"
    )


# Other columns a lookup reads, by the attribute each becomes and the field whose conversions it takes (None:
# as the database hands it back). SQLite, for one, hands back a UUID column as text.
Extras = tuple[tuple[str, Field | None], ...]
_CONTENT_REF = ("content_ref", Experiment._meta.get_field("content_key"))


def _converters(field: Field) -> tuple[Col, list]:
    """The column of ``field`` and the converters the ORM applies to it on this database."""
    column = field.get_col(field.model._meta.db_table)
    return column, connection.ops.get_db_converters(column) + column.get_db_converters(connection)


@functools.cache
def _reader(model: type[Model], extras: Extras, vendor: str) -> Callable[[Sequence], Model]:
    """Turns a row of ``columns(model)`` followed by the ``extras`` into an instance of ``model``, as the ORM would.

    Each column goes through the converters the ORM applies on this database (a JSON column is decoded, for
    instance); the extras become attributes of the instance, as ``raw`` sets a query's other columns.
    """
    fields = model._meta.concrete_fields
    names = [field.attname for field in fields]
    converted = []
    for position, field in enumerate([*fields, *(field for _name, field in extras)]):
        if field is not None:
            column, converters = _converters(field)
            if converters:
                converted.append((position, converters, column))
    count = len(names)
    extra_names = [name for name, _field in extras]

    def read(row: Sequence) -> Model:
        values = list(row)
        for position, converters, column in converted:
            value = values[position]
            for convert in converters:
                value = convert(value, column, connection)
            values[position] = value
        instance = model.from_db(connection.alias, names, values[:count])
        for name, value in zip(extra_names, values[count:], strict=True):
            setattr(instance, name, value)
        return instance

    return read


def _prepare_once(cursor, name: str, sql: str, param_count: int) -> None:
    """PREPARE ``sql`` as ``name`` unless this connection has: prepared statements live as long as their connection
    (a rollback keeps them), and a new connection has none."""
    raw_connection = connection.connection
    kept = getattr(connection, "_threatlab_prepared", None)
    if kept is None or kept[0] is not raw_connection:
        kept = connection._threatlab_prepared = (raw_connection, set())
    if name not in kept[1]:
        numbered = sql
        for number in range(1, param_count + 1):
            numbered = numbered.replace("%s", f"${number}", 1)
        cursor.execute(f"PREPARE {name} AS {numbered}")
        kept[1].add(name)


def prepared_instances(model: type[Model], name: str, sql: str, params: list, extras: Extras = ()) -> list:
    """The instances of ``model`` that ``sql`` selects (``columns(model)``, then the ``extras``); on PostgreSQL
    through the statement ``name``, prepared once per connection."""
    # The cursor first: opening it checks the connection's health, and a reconnect comes before the check below.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _prepare_once(cursor, name, sql, len(params))
            cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)
        else:
            cursor.execute(sql, params)
        rows = cursor.fetchall()
    read = _reader(model, extras, connection.vendor)
    return [read(row) for row in rows]


def _participant_by(key: str, value: uuid.UUID) -> tuple[Participant, Content] | None:
    param = Participant._meta.get_field(key).get_db_prep_value(value, connection)
    found = prepared_instances(
        Participant,
        f"threatlab_participant_by_{key}",
        _participant_sql(connection.vendor, key),
        [param],
        extras=(("experiment_ref", None), _CONTENT_REF),
    )
    if not found:
        return None
    participant = found[0]
    content = content_for(participant.experiment_ref, participant.content_ref)
    session = LabSession.from_db(connection.alias, ["id", "experiment_id"], [participant.session_id, content.key[0]])
    session.experiment = content.experiment
    participant.session = session
    if participant.arm_id is not None:
        participant.arm = content.arms[participant.arm_id]
    return participant, content


def participant_by_code(code: uuid.UUID) -> tuple[Participant, Content] | None:
    """The participant with this code and its experiment's content, or None."""
    return _participant_by("code", code)


def participant_by_entry_token(entry_token: uuid.UUID) -> Participant | None:
    """The participant a consent form made (its entry token), or None: a replayed consent finds it here."""
    found = _participant_by("entry_token", entry_token)
    return found[0] if found else None


def session_by_join_code(join_code: str) -> LabSession | None:
    """The lab session with this join code, its experiment the snapshot's (no join of the experiment's columns)."""
    found = prepared_instances(
        LabSession,
        "threatlab_session_by_join_code",
        _session_sql(connection.vendor),
        [join_code],
        extras=(_CONTENT_REF,),
    )
    if not found:
        return None
    session = found[0]
    session.experiment = content_for(session.experiment_id, session.content_ref).experiment
    return session
