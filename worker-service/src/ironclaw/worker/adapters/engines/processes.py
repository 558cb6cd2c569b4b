"""Running a program for an engine: a timeout, its whole process group killed, output capped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class ProcessResult:
    """How a program ended: its exit code (None if it never ran or was killed) and output."""

    exit_code: int | None
    output: str
    timed_out: bool = False

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
) -> ProcessResult:
    """Run `argv` in `cwd` without a terminal or stdin; stdout and stderr together, clipped."""
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
        try:
            exit_code: int | None = process.wait(timeout=max(0.001, timeout_s))
            timed_out = False
        except subprocess.TimeoutExpired:
            _kill_group(process)
            exit_code, timed_out = None, True
        return ProcessResult(exit_code, _clipped_output(sink, output_cap), timed_out)


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
