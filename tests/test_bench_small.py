"""A small class through the load driver (bench/run.py) on PostgreSQL: nothing lost, nothing doubled.

Fifty students join within 3 s and submit within 10 s against gunicorn on a database of its own, some of them
dropping their connection while submitting and sending the same POST again. The driver checks the database
against what every student sent; this test also checks that it left no process and no database behind.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.stack import PgServer, connect

REPO = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("DATABASE_URL", "")
SERVER = PgServer.from_url(DATABASE_URL) if DATABASE_URL else None

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        SERVER is None,
        reason="needs DATABASE_URL pointing at PostgreSQL: the driver creates and drops a database of its own there",
    ),
]


def run_driver(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, dict]:
    out = tmp_path / "bench.json"
    command = [sys.executable, str(REPO / "bench" / "run.py"), "--json", str(out), *args]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=150)
    except subprocess.TimeoutExpired:
        # SIGTERM lets the driver stop gunicorn and drop its database before it exits.
        process.terminate()
        output, _ = process.communicate(timeout=60)
        pytest.fail(f"the driver took over 150 s:\n{output[-3000:]}")
    assert process.returncode == 0, output[-5000:]
    return process, json.loads(out.read_text())


def database_exists(name: str) -> bool:
    assert SERVER is not None
    conn = connect(SERVER)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            return cur.fetchone() is not None
    finally:
        conn.close()


def test_fifty_students_with_dropped_connections_lose_and_double_nothing(tmp_path):
    process, results = run_driver(
        tmp_path,
        *("-n", "50", "--join-window", "3", "--submit-window", "10", "--gap", "2"),
        *("--calibrate-seconds", "0", "--fault", "client-drop", "--drop-fraction", "0.2", "--seed", "7"),
    )
    checks = {c["name"]: c for c in results["checks"]}
    assert [c for c in results["checks"] if not c["ok"]] == []
    assert checks["participants = students"]["detail"].startswith("50 participants")
    assert checks["answers = students x threats"]["ok"]
    assert results["unfinished"] == 0
    assert results["faults"]["drops"] > 0, "some students dropped their connection and retried"

    assert not database_exists(results["database"]), "the bench database is dropped"
    assert results["database"] == f"threatlab_bench_{process.pid}"
    still_running = [pid for pid in results["gunicorn_pids"] if Path(f"/proc/{pid}").exists()]
    assert still_running == [], "gunicorn and its workers are stopped"
