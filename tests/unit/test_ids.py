"""Primary keys: time-ordered UUIDs (version 7), 36 characters, as the contract's IDs row says."""

from __future__ import annotations

import time
import uuid

from src.models import new_id


def test_a_new_id_is_a_lower_case_version_7_uuid_of_36_characters() -> None:
    made = new_id()
    parsed = uuid.UUID(made)
    assert len(made) == 36 and made == str(parsed) and made == made.lower()
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122


def test_an_id_carries_the_millisecond_it_was_made_in() -> None:
    before = time.time_ns() // 1_000_000
    made = uuid.UUID(new_id())
    after = time.time_ns() // 1_000_000
    assert before <= made.int >> 80 <= after


def test_ids_made_later_sort_after_earlier_ones_as_text() -> None:
    earlier = [new_id() for _ in range(50)]
    time.sleep(0.002)
    later = new_id()
    assert all(made < later for made in earlier)


def test_ids_made_in_the_same_millisecond_still_differ() -> None:
    assert len({new_id() for _ in range(10_000)}) == 10_000
