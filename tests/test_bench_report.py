"""The benchmark's figures from its samples: what the report says a run did, checked on samples made by hand."""

import math

from bench import report
from bench.driver import Sample


def sample(step: str, at: float, latency_ms: float, cpu_us: int | None = 1000) -> Sample:
    return Sample(step, at, latency_ms / 1000, 200, cpu_us=cpu_us)


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert report.percentile(values, 50) == 50
    assert report.percentile(values, 95) == 95
    assert report.percentile(values, 100) == 100
    assert report.percentile([7.0], 95) == 7.0
    assert math.isnan(report.percentile([], 95))


def test_slowest_seconds_ranks_seconds_by_their_p95_and_names_what_was_sent_in_them():
    calm = [sample("join_page", 2.1 + i / 100, 5) for i in range(20)]
    pile = [sample("training_submit", 13.0 + i / 100, 200) for i in range(30)]
    pile += [sample("threats_page", 13.5 + i / 100, 150, cpu_us=3000) for i in range(10)]
    after = [sample("threats_page", 14.2, 40)]

    slowest = report.slowest_seconds(calm + pile + after, top=2)

    assert [s.start for s in slowest] == [13, 14]
    busiest = slowest[0]
    assert busiest.requests == 40
    assert busiest.p95_ms == 200
    # 30 requests at 1 ms and 10 at 3 ms of CPU inside Django, in one second: 0.06 cores.
    assert math.isclose(busiest.django_cores, 0.06)
    assert busiest.steps == (("training_submit", 30), ("threats_page", 10))


def test_slowest_seconds_leave_out_the_reference_probe_and_count_missing_cpu_as_none_spent():
    samples = [sample("reference", 1.0, 900), sample("join_page", 1.2, 10, cpu_us=None)]

    (only,) = report.slowest_seconds(samples)

    assert only.requests == 1
    assert only.p95_ms == 10
    assert only.django_cores == 0
    assert report.slowest_seconds([sample("reference", 1.0, 900)]) == []


def test_seconds_lines_say_when_how_many_how_slow_and_what():
    second = report.Second(
        start=13, requests=476, p95_ms=76.94, django_cores=0.934, steps=(("training_submit", 137), ("diagram", 58))
    )

    (line,) = report.seconds_lines([second])

    assert line == "  13-14 s: 476 requests, p95 76.9 ms, 0.93 cores inside Django; training_submit 137, diagram 58"


def test_a_pages_ratio_is_the_median_of_its_rounds_each_against_the_reference_around_it():
    reference = report.capacity("reference", [], 5.0, None, [1000.0] * 5, [1000.0] * 5)
    # The machine slows down in round 3 (the reference around it: 600) and the page with it.
    page = report.capacity("threats_page", [], 5.0, reference, [500, 520, 330, 480, 510], [1000, 1000, 600, 1000, 1000])

    assert reference.speed_vs_reference == 1.0
    # Rounds: 0.50, 0.52, 0.55, 0.48, 0.51; against a fixed 1000 the slow round would have read 0.33.
    assert math.isclose(page.speed_vs_reference, 0.51)
    assert math.isclose(page.ratio_low, 0.48)
    assert math.isclose(page.ratio_high, 0.55)
