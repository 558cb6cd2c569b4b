"""A lock held across threads and processes: a process-wide mutex, then an `flock` on a file."""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_GUARD = threading.Lock()
_PROCESS_LOCKS: dict[Path, threading.Lock] = {}


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold `lock_file` exclusively for the block: blocks until no thread or process holds it."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with _process_lock(lock_file), open(lock_file, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _process_lock(lock_file: Path) -> threading.Lock:
    with _GUARD:
        return _PROCESS_LOCKS.setdefault(lock_file.resolve(), threading.Lock())
