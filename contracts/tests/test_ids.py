from __future__ import annotations

import re
import time

import pytest

from ironclaw.contracts.events import NewEvent, RunCancelRequested
from ironclaw.contracts.ids import PREFIXES, derived_event_id, has_prefix, new_id

CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def _millis_of(identifier: str) -> int:
    """Decode the 10-character time part that follows the prefix."""
    encoded = identifier.split("_", 1)[1][:10]
    value = 0
    for char in encoded:
        value = value * 32 + CROCKFORD.index(char)
    return value


def _next_millisecond(after: int) -> None:
    deadline = time.monotonic() + 1.0
    while time.time_ns() // 1_000_000 <= after:
        assert time.monotonic() < deadline, "the clock did not advance"


@pytest.mark.parametrize("prefix", sorted(PREFIXES))
def test_id_has_its_prefix_length_and_alphabet(prefix: str) -> None:
    identifier = new_id(prefix)

    assert identifier.startswith(f"{prefix}_")
    body = identifier[len(prefix) + 1 :]
    assert len(body) == 26
    assert set(body) <= set(CROCKFORD)
    assert has_prefix(identifier, prefix)


@pytest.mark.parametrize("prefix", ["", "bogus", "RUN", "run_", "ord "])
def test_unknown_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="unknown id prefix"):
        new_id(prefix)


def test_has_prefix_refuses_other_prefixes_and_lengths() -> None:
    run_id = new_id("run")

    assert not has_prefix(run_id, "ord")
    assert not has_prefix(run_id[:-1], "run")
    assert not has_prefix(run_id + "x", "run")
    assert not has_prefix("run" + run_id[3:].replace("_", "-"), "run")


def test_time_part_is_the_creation_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    identifier = new_id("evt")
    after = time.time_ns() // 1_000_000

    assert before <= _millis_of(identifier) <= after


def test_ids_made_later_sort_later_across_millisecond_boundaries() -> None:
    made = []
    for _ in range(20):
        identifier = new_id("evt")
        made.append(identifier)
        _next_millisecond(_millis_of(identifier))

    assert sorted(made) == made
    assert len({_millis_of(identifier) for identifier in made}) == len(made)


def test_ids_are_unique_over_many() -> None:
    count = 20_000
    assert len({new_id("ord") for _ in range(count)}) == count


def test_derived_event_ids_are_stable_valid_and_distinct_per_meaning() -> None:
    first = derived_event_id("co", "ord_x", 2)
    assert first == derived_event_id("co", "ord_x", 2)
    assert first != derived_event_id("duty", "ord_x", 2)
    assert first != derived_event_id("co", "ord_x", 3)
    assert re.fullmatch(r"evt_[0-9a-z]{26}", first)
    event = NewEvent(
        id=first, **NewEvent.of(RunCancelRequested(run_id="run_x")).model_dump(exclude={"id"})
    )
    assert event.id == first
