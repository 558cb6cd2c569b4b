"""Running a fleet for one test: started side by side, stopped after, its logs shown on failure."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fleet import Fleet


@contextmanager
def fleet_running(
    fleet: Fleet, names: list[str], request: pytest.FixtureRequest
) -> Iterator[Fleet]:
    """`fleet` with `names` started; stopped at the end, printing its logs if the test failed
    (the `rep_call` report that `fleet_fixtures.pytest_runtest_makereport` keeps)."""
    try:
        fleet.start_all(names)
        yield fleet
    finally:
        fleet.stop()
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            print(fleet.logs())
