"""Running a program for an engine: a timeout, its whole process group killed, output capped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

STOP_POLL_S = 0.2


@dataclass(frozen=True)
class ProcessResult:
    """How a program ended: its exit code (None if it never ran or was killed) and output."""

    exit_code: int | None
    output: str
    timed_out: bool = False
    stopped: bool = False  # killed because `stop` was set

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0


def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    environment: Mapping[str, str],
    timeout_s: float,
    output_cap: int,
    stop: threading.Event | None = None,
) -> ProcessResult:
    """Run `argv` in `cwd` without a terminal or stdin; stdout and stderr together, clipped.

    Its process group is killed at the timeout, or as soon as `stop` is set (the attempt was
    cancelled or superseded), checked every `STOP_POLL_S`.
    """
    with tempfile.TemporaryFile() as sink:
        try:
            process = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(environment),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group, so a timeout kills its children too
            )
        except OSError as error:
            return ProcessResult(exit_code=None, output=f"could not start {argv[0]}: {error}")
        exit_code, timed_out, stopped = _wait(process, time.monotonic() + timeout_s, stop)
        return ProcessResult(exit_code, _clipped_output(sink, output_cap), timed_out, stopped)


def _wait(
    process: subprocess.Popen[bytes], deadline: float, stop: threading.Event | None
) -> tuple[int | None, bool, bool]:
    """(exit code, timed out, stopped): the process's end, killing its group if need be."""
    while True:
        slice_s = max(0.001, deadline - time.monotonic())
        if stop is not None:
            slice_s = min(slice_s, STOP_POLL_S)
        try:
            return process.wait(timeout=slice_s), False, False
        except subprocess.TimeoutExpired:
            pass
        if stop is not None and stop.is_set():
            _kill_group(process)
            return None, False, True
        if time.monotonic() >= deadline:
            _kill_group(process)
            return None, True, False


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _clipped_output(sink: IO[bytes], cap: int) -> str:
    """The output, or its head and (mostly) its tail when longer than `cap` characters."""
    size = sink.seek(0, os.SEEK_END)
    if size <= cap:
        sink.seek(0)
        return _text(sink.read())
    head_size = cap // 4
    sink.seek(0)
    head = _text(sink.read(head_size))
    sink.seek(size - (cap - head_size))
    tail = _text(sink.read())
    return f"{head}\n[... {size - cap} bytes omitted ...]\n{tail}"


def _text(data: bytes) -> str:
    # Events refuse NUL; invalid UTF-8 becomes U+FFFD rather than an error.
    return data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def tail(text: str, limit: int) -> str:
    """The last `limit` characters of `text`, marked when clipped."""
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]
