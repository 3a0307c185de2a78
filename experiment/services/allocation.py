"""The arm a participant gets: the next slot of the stratum's open permuted block (experiment/assignment.py), one
allocation at a time per stratum."""

import random
import zlib

from django.db import connection
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from experiment.assignment import next_slot
from experiment.models import AllocationBlock, Participant


def _stratum_lock_key(stratum: str) -> int:
    """The stratum as a signed 32-bit number, for an advisory lock; two strata sharing one only wait on each other."""
    return int.from_bytes(zlib.crc32(stratum.encode()).to_bytes(4, "big"), "big", signed=True)


def _serialise(session_id: int, stratum: str) -> None:
    """Take the stratum's allocation lock until the transaction ends, so no two participants take the same slot and
    blocks fill in order.

    On PostgreSQL it is an advisory lock on (session, stratum), not the session's row: consents, other strata and
    every other write of the session go on meanwhile. SQLite takes its write lock at BEGIN (IMMEDIATE transactions),
    which serialises every writer already.
    """
    if connection.vendor == "postgresql":
        # Raw SQL: the ORM has no way to say an advisory lock.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [session_id % 2**31, _stratum_lock_key(stratum)])


def allocate(session_id: int, stratum: str, arm_ids: list[int], rng: random.Random) -> dict:
    """The next slot of the stratum's open block, as the participant fields that record it.

    Call it inside the transaction that saves the participant, as late as possible: the stratum's lock is held from
    here until the commit.
    """
    _serialise(session_id, stratum)
    # Only the last block's participants are counted (a correlated subquery, after the LIMIT): counting every
    # block's would grow with the class, inside the lock every allocation of the stratum waits on.
    in_block = Participant.objects.filter(block=OuterRef("pk")).order_by().values("block")
    filled = Coalesce(Subquery(in_block.annotate(count=Count("pk")).values("count")), 0)
    block = (
        AllocationBlock.objects.filter(session_id=session_id, stratum=stratum)
        .annotate(filled=filled)
        .order_by("-number")
        .first()
    )
    slot = next_slot(block.arm_sequence if block else None, block.filled if block else 0, arm_ids, rng)
    if slot.new_block is not None:
        block = AllocationBlock.objects.create(
            session_id=session_id,
            stratum=stratum,
            number=(block.number + 1) if block else 1,
            arm_sequence=list(slot.new_block),
        )
    return {
        "arm_id": slot.arm_id,
        "block": block,
        "block_position": slot.position,
        "stratum": stratum,
        "assigned_at": timezone.now(),
    }
