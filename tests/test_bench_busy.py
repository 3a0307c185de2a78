"""The bench's busy processes (bench/busy.py, --busy-cores): as many as asked for, and gone after the run."""

import os

import pytest

from bench import run
from bench.busy import busy, shares


@pytest.mark.parametrize(
    "cores,expected",
    [(0, []), (0.3, [0.3]), (1, [1.0]), (1.5, [1.0, 0.5])],
)
def test_one_process_per_core_asked_for(cores, expected):
    assert shares(cores) == expected


def test_the_busy_processes_run_during_the_block_and_are_gone_after_it():
    with busy(1.5) as processes:
        assert len(processes) == 2
        assert all(process.poll() is None for process in processes), "both spin until the lab is over"
    assert all(process.returncode is not None for process in processes)


def test_no_busy_cores_starts_nothing():
    with busy(0) as processes:
        assert processes == []


@pytest.mark.parametrize(
    "given,message",
    [
        ("many", "'many' is not a number of cores"),
        ("-0.5", "give 0 or more cores"),
        (str(os.cpu_count()), f"fewer than the machine's {os.cpu_count()}"),
    ],
)
def test_a_bad_number_of_busy_cores_is_refused_with_a_message(given, message, capsys):
    with pytest.raises(SystemExit):
        run.parse_args(["--busy-cores", given])
    assert message in capsys.readouterr().err


def test_busy_cores_default_to_none():
    assert run.parse_args([]).busy_cores == 0.0
