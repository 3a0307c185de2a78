"""The limits per address hold across instances: nginx spreads one address's requests over every gunicorn instance,
and the counts they share in Redis refuse it past the limit wherever the next request lands.

Run before the class, while every instance is up, from addresses no student has (students: 127.1.x.y):
- 127.2.0.1 asks for wrong join codes, more than the site's limit (JOIN_GUESS_LIMIT_PER_ADDRESS), then for the right
  one, which is never refused;
- 127.2.0.2 consents in a session of its own, each time as a new browser, more times than that session's limit on
  new participants per address.
"""

import random
from collections import Counter

from bench.checks import Check
from bench.driver import Browser, Recorder
from experiment.student_pages import CONSENT, fill, read_page

GUESSER = "127.2.0.1"
FLOODER = "127.2.0.2"
BEYOND = 10  # requests sent past each limit


async def check_limits(
    base_url: str, join_code: str, flood_code: str, join_limit: int, flood_limit: int, instances: int
) -> tuple[list[Check], dict]:
    """The checks and, per limit, the statuses in order (run-length) and which instance answered how many."""
    recorder = Recorder()
    guesser = Browser(base_url, recorder, local_address=GUESSER)
    guesses: list[int] = []
    try:
        for number in range(join_limit + BEYOND):
            # Never a real code: join codes have no O, S, 0 or 1 (experiment/codes.py).
            page = await guesser.send("wrong_join_code", "GET", f"/join/NOSUCH{number:04d}/")
            guesses.append(page.status_code if page else 0)
        right = await guesser.send("right_join_code", "GET", f"/join/{join_code}/")
    finally:
        await guesser.close()

    consents: list[int] = []
    for _number in range(flood_limit + BEYOND):
        browser = Browser(base_url, recorder, local_address=FLOODER)
        try:
            page = await browser.send("flood_join_page", "GET", f"/join/{flood_code}/")
            form = read_page(page.text).form if page and page.status_code == 200 else None
            if form is None:
                consents.append(page.status_code if page else 0)
                continue
            consent = fill(CONSENT, form, random.Random(0))
            sent = await browser.send("flood_consent", "POST", f"/join/{flood_code}/", consent)
            consents.append(sent.status_code if sent else 0)
        finally:
            await browser.close()

    answered = {
        step: dict(sorted(Counter(s.instance for s in recorder.samples if s.step == step).items()))
        for step in ("wrong_join_code", "flood_consent")
    }
    right_status = right.status_code if right else 0
    checks = [
        Check(
            "wrong join codes from one address: refused past the limit, across instances",
            guesses == [404] * join_limit + [429] * BEYOND and len(answered["wrong_join_code"]) == instances,
            f"{_runs(guesses)} for a limit of {join_limit}; answered by {answered['wrong_join_code']}",
        ),
        Check(
            "the right join code from that blocked address is let in",
            right_status == 200,
            f"HTTP {right_status}",
        ),
        Check(
            "new participants from one address: refused past the session's limit, across instances",
            consents == [302] * flood_limit + [429] * BEYOND and len(answered["flood_consent"]) == instances,
            f"{_runs(consents)} for a limit of {flood_limit}; answered by {answered['flood_consent']}",
        ),
    ]
    figures = {
        "join_guess_limit": join_limit,
        "wrong_join_codes": _runs(guesses),
        "right_code_after": right_status,
        "new_participants_limit": flood_limit,
        "consents": _runs(consents),
        "answered_by": answered,
    }
    return checks, figures


def _runs(statuses: list[int]) -> str:
    """``[404, 404, 429]`` as ``"2 x 404, 1 x 429"``: the order in which the answers came."""
    runs: list[list[int]] = []
    for status in statuses:
        if runs and runs[-1][0] == status:
            runs[-1][1] += 1
        else:
            runs.append([status, 1])
    return ", ".join(f"{count} x {status}" for status, count in runs)
