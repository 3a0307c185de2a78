"""Balanced permuted-block randomisation, as pure functions a test can seed.

A block holds every arm equally often (1x or 2x the number of arms, the size drawn at random so that an
instructor watching the monitor cannot predict the next arm). Participants take the slots of the open block in
order; when it is full a new block is drawn. Strata (e.g. novice / experienced) each get their own run of
blocks: the caller keeps blocks per stratum and passes the stratum's open block here.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass

BLOCK_MULTIPLIERS = (1, 2)


@dataclass(frozen=True)
class Slot:
    """Where the next participant goes: the arm, the slot's position, and a block when a new one was drawn."""

    arm_id: int
    position: int
    new_block: tuple[int, ...] | None


def draw_block(arm_ids: Sequence[int], rng: random.Random, multipliers: Sequence[int] = BLOCK_MULTIPLIERS):
    """A shuffled block holding each arm id the same number of times (a multiplier drawn from ``multipliers``)."""
    if not arm_ids:
        raise ValueError("an experiment needs at least one arm to allocate")
    if len(set(arm_ids)) != len(arm_ids):
        raise ValueError("arm ids must be distinct")
    slots = list(arm_ids) * rng.choice(list(multipliers))
    rng.shuffle(slots)
    return tuple(slots)


def next_slot(open_block: Sequence[int] | None, filled: int, arm_ids: Sequence[int], rng: random.Random) -> Slot:
    """The slot for the next participant, given the stratum's latest block and how many slots of it are taken."""
    if open_block is not None and filled < len(open_block):
        return Slot(arm_id=open_block[filled], position=filled, new_block=None)
    block = draw_block(arm_ids, rng)
    return Slot(arm_id=block[0], position=0, new_block=block)


def shuffled(items: Sequence[int], rng: random.Random) -> list[int]:
    """A new list with the items in random order (the threat order a participant is shown)."""
    result = list(items)
    rng.shuffle(result)
    return result
