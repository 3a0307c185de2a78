"""The bench reads DATABASE_URL as Django does (bench/stack.py): where it connects and what it hands gunicorn."""

import dj_database_url
import pytest

from bench.stack import LOCAL_SERVER, PgServer, bench_server


def test_a_socket_url_connects_through_the_socket_as_the_operating_system_user():
    server = bench_server("postgres:///threatlab")

    assert server.connect_params("postgres") == {"dbname": "postgres"}
    assert server.database_url("threatlab_bench_7") == "postgresql:///threatlab_bench_7"
    assert server.local


def test_a_tcp_url_connects_to_its_host_and_port_as_its_user():
    server = bench_server("postgres://user@127.0.0.1:5432/threatlab")

    assert server.connect_params("postgres") == {
        "host": "127.0.0.1",
        "port": 5432,
        "user": "user",
        "dbname": "postgres",
    }
    assert server.database_url("threatlab_bench_7") == "postgresql://user@127.0.0.1:5432/threatlab_bench_7"
    assert server.local


def test_a_url_with_a_password_and_no_port_keeps_the_password_and_leaves_the_port_to_libpq():
    server = bench_server("postgresql://user:pw@host/threatlab")

    assert server.connect_params("postgres") == {"host": "host", "user": "user", "password": "pw", "dbname": "postgres"}
    assert server.database_url("threatlab_bench_7") == "postgresql://user:pw@host/threatlab_bench_7"
    assert not server.local


@pytest.mark.parametrize("database_url", [None, "sqlite:///db/threatlab.sqlite3"])
def test_without_a_postgresql_url_the_bench_uses_the_local_server(database_url, monkeypatch):
    if database_url is None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_URL", database_url)

    server = bench_server()

    assert server == LOCAL_SERVER
    assert server.connect_params("postgres") == {
        "host": "127.0.0.1",
        "port": 5432,
        "user": "postgres",
        "dbname": "postgres",
    }


@pytest.mark.parametrize(
    "url",
    [
        "postgres:///threatlab",
        "postgres://postgres@127.0.0.1:5432/threatlab",
        "postgresql://user:pw@host/threatlab",
        "postgresql://us%40er:p%40ss%3Aw%2Fd@db.example.org:6543/threatlab",
        "postgres://%2Fvar%2Frun%2Fpostgresql:5433/threatlab",
        "postgres://user@[::1]:5432/threatlab",
        "postgres://user@host/threatlab?sslmode=require&connect_timeout=5",
    ],
)
def test_the_url_handed_to_gunicorn_reads_back_as_the_same_server_and_the_bench_database(url):
    server = PgServer.from_url(url)
    assert server is not None

    config = dj_database_url.parse(server.database_url("threatlab_bench_7"))

    assert config["NAME"] == "threatlab_bench_7"
    assert PgServer.from_url(server.database_url("threatlab_bench_7")) == server
    original = dj_database_url.parse(url)
    assert {key: config[key] for key in ("HOST", "PORT", "USER", "PASSWORD")} == {
        key: original[key] for key in ("HOST", "PORT", "USER", "PASSWORD")
    }


def test_libpq_options_reach_the_connection_and_djangos_own_do_not():
    server = bench_server("postgres://user@host/threatlab?sslmode=require&isolation_level=1&pool=true")

    assert server.connect_params("postgres") == {
        "sslmode": "require",
        "host": "host",
        "user": "user",
        "dbname": "postgres",
    }
    assert "pool=True" in server.database_url("threatlab_bench_7"), "gunicorn's Django gets every option"
