"""The bench scaled out as compose deploys it (bench/run.py --replicas N --proxy nginx): nginx with the repo's
deploy/nginx.conf in front of gunicorn instances on one PostgreSQL and one Redis, one instance killed mid-run.

The nginx copy is checked against the repo's file first, without nginx: it may differ only in the lines
bench/proxy.py names. The run needs nginx, openssl, Redis on 127.0.0.1:6379 and DATABASE_URL on PostgreSQL
(.ci/run has all four).
"""

import ipaddress
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import proxy, report
from bench.driver import Sample, student_address
from bench.faults import Event, instance_kill_effect
from bench.stack import BENCH_REDIS_URL, PgServer

REPO = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("DATABASE_URL", "")
SERVER = PgServer.from_url(DATABASE_URL) if DATABASE_URL else None


def test_the_bench_copy_of_deploy_nginx_conf_differs_only_where_bench_proxy_says(tmp_path):
    deployed = proxy.SITE.read_text().splitlines()
    copy = proxy.site(8080, 8443, [9001, 9002, 9003], tmp_path).splitlines()

    assert len(copy) == len(deployed)
    changed = 0
    for ours, theirs in zip(copy, deployed, strict=True):
        if ours == theirs:
            continue
        changed += 1
        named = [d.deployed for d in proxy.DIFFERENCES if d.deployed in theirs]
        assert len(named) == 1, f"a line changed that bench/proxy.py does not name: {theirs!r} -> {ours!r}"
        before, _, after = theirs.partition(named[0])
        assert ours.startswith(before) and ours.endswith(after), f"{theirs!r} -> {ours!r} changed more"
    assert changed == len(proxy.DIFFERENCES) + 1, "each difference once, the access log in both servers"
    text = "\n".join(copy)
    assert "server 127.0.0.1:9001; server 127.0.0.1:9002; server 127.0.0.1:9003;" in text
    assert "listen 127.0.0.1:8443 ssl;" in text and "listen 127.0.0.1:8080;" in text
    assert "web:8000" not in text and "/etc/nginx" not in text and "/var/log" not in text


def test_each_student_has_an_address_of_its_own_on_loopback_apart_from_the_proxys():
    addresses = [student_address(i) for i in range(1000)]

    assert len(set(addresses)) == 1000
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network("127.0.0.0/8") for a in addresses)
    assert "127.0.0.1" not in addresses
    assert not any(a.endswith((".0", ".255")) for a in addresses)


def test_a_request_sent_again_after_an_error_counts_as_retried_apart_from_the_error():
    samples = [
        Sample("threats_submit", 10.0, 0.05, 502, error="HTTP 502", instance=""),
        Sample("threats_submit", 10.8, 0.04, 302, retry=True, instance="web-1"),
        Sample("threats_submit", 11.0, 0.04, 302, instance="web-3"),
    ]

    (figures,) = report.step_figures(samples)

    assert (figures.count, figures.errors, figures.retried) == (3, 1, 1)
    assert "| threats_submit | 3 | 1 | 1 |" in report.steps_table([figures])


def test_the_kill_effect_says_who_answered_before_across_and_after_the_kill():
    kill = Event("instance-kill", at=20.0, seconds=0.05, detail="killed web-2")
    samples = [
        Sample("threats_page", 19.0, 0.1, 200, instance="web-2"),  # before
        Sample("threats_submit", 19.9, 0.2, 502, error="HTTP 502"),  # held by web-2 when it died
        Sample("threats_page", 19.98, 0.04, 200, instance="web-2"),  # answered as the kill began
        Sample("threats_submit", 20.6, 0.05, 302, retry=True, instance="web-1"),  # the student's retry
        Sample("usefulness_page", 21.0, 0.05, 200, instance="web-3"),
    ]

    effect = instance_kill_effect(samples, kill)

    assert effect["failed"] == 1 and effect["failed_by_kind"] == {"threats_submit: HTTP 502": 1}
    assert effect["failed_sent_within_s"] == [-0.1, -0.1]
    assert effect["retried"] == 1 and effect["retried_by_step"] == {"threats_submit": 1}
    assert effect["answered_before_by_instance"] == {"web-2": 1}
    assert effect["answered_in_flight_by_instance"] == {"web-2": 1}
    assert effect["answered_after_by_instance"] == {"web-1": 1, "web-3": 1}


def test_nginx_accepts_the_bench_configuration(tmp_path):
    nginx, openssl = shutil.which("nginx"), shutil.which("openssl")
    if not (nginx and openssl):
        pytest.skip("needs nginx and openssl (.ci/run installs nginx)")
    proxy.self_signed_certificate(tmp_path)
    (tmp_path / "site.conf").write_text(proxy.site(8080, 8443, [9001, 9002], tmp_path))
    (tmp_path / "nginx.conf").write_text(proxy.main_conf(tmp_path))

    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )

    assert checked.returncode == 0, checked.stderr


def _missing() -> str:
    if SERVER is None:
        return "needs DATABASE_URL pointing at PostgreSQL: the driver creates and drops a database of its own there"
    if not (shutil.which("nginx") and shutil.which("openssl")):
        return "needs nginx and openssl (.ci/run installs nginx)"
    import redis

    try:
        redis.Redis.from_url(BENCH_REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return f"needs Redis at {BENCH_REDIS_URL} (.ci/run starts one)"
    return ""


@pytest.mark.postgres
def test_a_class_through_nginx_loses_nothing_when_an_instance_is_killed(tmp_path):
    missing = _missing()
    if missing:
        pytest.skip(missing)
    out = tmp_path / "bench.json"
    command = [
        *(sys.executable, str(REPO / "bench" / "run.py"), "--json", str(out)),
        *("--replicas", "2", "--proxy", "nginx", "--fault", "instance-kill"),
        *("-n", "30", "--join-window", "3", "--submit-window", "8", "--gap", "2", "--calibrate-seconds", "0"),
    ]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        process.terminate()  # SIGTERM: the driver stops nginx and gunicorn and drops its database
        output, _ = process.communicate(timeout=60)
        pytest.fail(f"the driver took over 240 s:\n{output[-3000:]}")
    assert process.returncode == 0, output[-5000:]
    results = json.loads(out.read_text())

    assert [c for c in results["checks"] if not c["ok"]] == [], "nothing lost or doubled; the limits held"
    assert results["unfinished"] == 0
    limits = results["limits"]
    assert limits["wrong_join_codes"] == f"{limits['join_guess_limit']} x 404, 10 x 429"
    assert sorted(limits["answered_by"]["wrong_join_code"]) == ["web-1", "web-2"], "counted across instances"
    killed = results["faults"]["instance_kill"]
    assert set(killed["answered_before_by_instance"]) == {"web-1", "web-2"}, killed
    assert set(killed["answered_after_by_instance"]) == {"web-1"}, "nginx sends nothing to the dead instance"
    assert killed["retried"] >= killed["failed"], "every request that failed was sent again"
    still_running = [pid for pid in results["gunicorn_pids"] + results["nginx_pids"] if Path(f"/proc/{pid}").exists()]
    assert still_running == [], "nginx, gunicorn and their workers are stopped"
