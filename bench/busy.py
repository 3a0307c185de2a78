"""Another process on the machine for the whole lab: how much room the lab leaves on two shared cores.

Each busy process spins for its share of every 10 ms and sleeps the rest, so it takes about that share of a core
when the scheduler lets it. The run's "other" cores show what they took in the end.
"""

import contextlib
import math
import subprocess
import sys
from collections.abc import Iterator

_SPIN = """
import sys, time
share = float(sys.argv[1])
while True:
    start = time.perf_counter()
    while time.perf_counter() - start < 0.01 * share:
        pass
    time.sleep(0.01 * (1 - share))
"""


def shares(cores: float) -> list[float]:
    """One process per core asked for: 1.5 cores is one process spinning all the time and one half the time."""
    whole = math.floor(cores)
    rest = round(cores - whole, 3)
    return [1.0] * whole + ([rest] if rest > 0 else [])


@contextlib.contextmanager
def busy(cores: float) -> Iterator[list[subprocess.Popen]]:
    processes = [subprocess.Popen([sys.executable, "-c", _SPIN, str(share)]) for share in shares(cores)]
    try:
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
