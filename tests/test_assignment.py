"""The arm choice as pure functions: seeded, balanced, and filling blocks in order."""

import random
from collections import Counter

import pytest

from experiment.assignment import draw_block, next_slot, shuffled

ARMS = [11, 22]


def test_a_block_holds_every_arm_equally_often():
    rng = random.Random(1)
    for _ in range(200):
        block = draw_block(ARMS, rng)
        counts = Counter(block)
        assert set(counts) == set(ARMS)
        assert len(set(counts.values())) == 1
        assert len(block) in (2, 4)


def test_block_sizes_vary_between_one_and_two_times_the_arms():
    rng = random.Random(7)
    sizes = {len(draw_block([1, 2, 3], rng)) for _ in range(100)}
    assert sizes == {3, 6}


def test_the_same_seed_gives_the_same_blocks():
    first = [draw_block(ARMS, random.Random(42)) for _ in range(3)]
    second = [draw_block(ARMS, random.Random(42)) for _ in range(3)]
    assert first == second


def test_next_slot_fills_the_open_block_in_order():
    slot = next_slot((22, 11, 11, 22), 2, ARMS, random.Random(0))
    assert (slot.arm_id, slot.position, slot.new_block) == (11, 2, None)


def test_next_slot_draws_a_new_block_when_the_last_is_full():
    slot = next_slot((22, 11), 2, ARMS, random.Random(0))
    assert slot.new_block is not None
    assert slot.position == 0
    assert slot.arm_id == slot.new_block[0]


def test_next_slot_draws_the_first_block_when_there_is_none():
    slot = next_slot(None, 0, ARMS, random.Random(3))
    assert sorted(Counter(slot.new_block).values()) in ([1, 1], [2, 2])


def test_a_long_run_of_blocks_stays_balanced_after_each_full_block():
    rng = random.Random(2024)
    block, filled, tally = None, 0, Counter()
    for _ in range(1000):
        slot = next_slot(block, filled, ARMS, rng)
        if slot.new_block is not None:
            assert tally[11] == tally[22]
            block, filled = slot.new_block, 0
        tally[slot.arm_id] += 1
        filled += 1
    assert abs(tally[11] - tally[22]) <= 2


def test_no_arms_or_repeated_arms_are_refused():
    with pytest.raises(ValueError, match="at least one arm"):
        draw_block([], random.Random(0))
    with pytest.raises(ValueError, match="distinct"):
        draw_block([1, 1], random.Random(0))


def test_shuffled_keeps_every_item_and_leaves_the_input_alone():
    items = list(range(10))
    result = shuffled(items, random.Random(5))
    assert sorted(result) == items
    assert items == list(range(10))
    assert result != items
