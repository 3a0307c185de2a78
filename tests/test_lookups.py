"""The student lookups (experiment/lookups.py): raw SQL written once per worker, and on PostgreSQL prepared once per
connection. A new connection, or one the server ended, must prepare again and never fail a student's request."""

import uuid

import pytest
from django.db import close_old_connections, connection

from experiment import services
from experiment.lookups import participant_by_code, participant_by_entry_token, prepared_instances, session_by_join_code
from experiment.models import AllocationBlock, Experiment, LabSession, Participant
from tests.conftest import on_postgres

pytestmark = pytest.mark.django_db


def test_each_lookup_finds_what_it_names_and_nothing_else(lab, make_participant):
    participant = make_participant()
    found, content = participant_by_code(participant.code)
    assert (found.pk, found.session_id, content.experiment.pk) == (participant.pk, lab.pk, lab.experiment_id)
    assert participant_by_entry_token(participant.entry_token).pk == participant.pk
    assert session_by_join_code(lab.join_code).pk == lab.pk
    assert participant_by_code(participant.entry_token) is None, "an entry token is not a participant code"
    assert participant_by_entry_token(participant.code) is None
    assert session_by_join_code(lab.join_code.lower()) is None


def _same_as_the_orm(found, stored) -> None:
    """Every column as the ORM reads it: the same value, of the same type (a UUID, a decoded JSON list, an aware
    datetime), on SQLite and on PostgreSQL."""
    for field in type(stored)._meta.concrete_fields:
        mine, orm = getattr(found, field.attname), getattr(stored, field.attname)
        assert (mine, type(mine)) == (orm, type(orm)), field.name


def test_lookups_read_every_column_as_the_orm_does(lab, make_participant):
    participant = make_participant()
    assert services.start_threats(participant, {"diagram_dfd": 12.5})
    participant = Participant.objects.get(pk=participant.pk)
    # Columns that need converting somewhere: JSON, UUIDs, datetimes, a boolean.
    assert participant.exposure and participant.threat_order and participant.threats_started_at

    _same_as_the_orm(participant_by_code(participant.code)[0], participant)
    _same_as_the_orm(participant_by_entry_token(participant.entry_token), participant)
    _same_as_the_orm(session_by_join_code(lab.join_code), LabSession.objects.get(pk=lab.pk))
    # The experiment's content key comes with the row and is converted as its own column (SQLite stores text).
    content_key = Experiment.objects.get(pk=lab.experiment_id).content_key
    found, content = participant_by_code(participant.code)
    assert (found.content_ref, type(found.content_ref)) == (content_key, uuid.UUID)
    assert content.key == (lab.experiment_id, content_key)
    assert type(session_by_join_code(lab.join_code).content_ref) is uuid.UUID


def test_the_allocation_reads_its_last_block_as_the_orm_does(lab, make_participant):
    make_participant()
    block = AllocationBlock.objects.get(session=lab)

    (found,) = prepared_instances(
        AllocationBlock,
        "threatlab_last_block",
        services._last_block_sql(connection.vendor),
        [lab.pk, block.stratum],
        extras=(("filled", None),),
    )

    _same_as_the_orm(found, block)
    assert found.filled == 1


def _scalar(sql: str, params: tuple = ()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


postgres_only = pytest.mark.skipif(
    not on_postgres(), reason="needs PostgreSQL: prepared statements are how the lookups run there"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_the_lookups_again(make_participant):
    participant = make_participant()
    assert participant_by_code(participant.code) is not None
    assert _scalar("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'threatlab_%%'") >= 1

    # A rollback keeps prepared statements; closing the connection does not.
    connection.close()
    assert participant_by_code(participant.code)[0].pk == participant.pk


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ended_is_replaced_within_the_next_request(make_participant):
    participant = make_participant()
    assert participant_by_code(participant.code) is not None
    ended = _scalar("SELECT pg_backend_pid()")
    # What a PostgreSQL restart does to every connection: the server ends it.
    other = connection.copy()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [ended])
    finally:
        other.close()

    # The next request starts as Django starts one: its first cursor checks the connection and reconnects.
    assert connection.health_check_enabled, "CONN_HEALTH_CHECKS is on (config/settings.py)"
    close_old_connections()
    found = participant_by_code(participant.code)
    assert found is not None and found[0].pk == participant.pk
    assert _scalar("SELECT pg_backend_pid()") != ended
