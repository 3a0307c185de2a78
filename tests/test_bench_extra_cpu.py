"""The bench's headroom probe (bench/run.py --extra-cpu): every request costs the asked fraction more CPU."""

import time

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from bench import run
from bench.middleware import timing


def test_each_request_costs_the_asked_fraction_more_cpu(monkeypatch):
    monkeypatch.setenv("BENCH_EXTRA_CPU", "1.5")
    spent = {}

    def view(request):
        started = time.thread_time()
        sum(i * i for i in range(20_000))
        spent["view"] = time.thread_time() - started
        return HttpResponse("ok")

    response = timing(view)(RequestFactory().get("/"))

    # The middleware keeps busy after the view until the request's CPU is 2.5 times what it was: never less.
    assert int(response["X-Bench-CPU"]) >= int(spent["view"] * 2.5 * 1e6) - 1


def test_without_the_probe_a_request_costs_what_it_costs(monkeypatch):
    monkeypatch.delenv("BENCH_EXTRA_CPU", raising=False)
    assert run.parse_args([]).extra_cpu == 0.0
    response = timing(lambda request: HttpResponse("ok"))(RequestFactory().get("/"))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "given,message", [("more", "'more' is not a fraction"), ("-0.1", "from 0 to 10"), ("11", "from 0 to 10")]
)
def test_a_bad_fraction_is_refused_with_a_message(given, message, capsys):
    with pytest.raises(SystemExit):
        run.parse_args(["--extra-cpu", given])
    assert message in capsys.readouterr().err
