"""Running one gate: `bash -c <run>` in the attempt's worktree, with a timeout, a clean env."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

from ironclaw.integration.domain.gates import Gate, GateRun

# Gates are the theater's own commands, but their output becomes an artifact: no fleet secrets
# (IRONCLAW_*, tokens) may reach them, so only these variables pass through.
PASSED_ENVIRONMENT = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TMPDIR",
    "TZ",
    "USER",
    "LOGNAME",
    "SHELL",
    "TERM",
)


def gate_environment() -> dict[str, str]:
    """The environment a gate runs with: the harmless part of ours, and `CI=1`."""
    kept = {key: os.environ[key] for key in PASSED_ENVIRONMENT if key in os.environ}
    return {**kept, "CI": "1"}


def run_gate(
    gate: Gate, worktree: Path, *, default_timeout_s: float, max_output_bytes: int
) -> GateRun:
    """Run `gate` to its end or its timeout, whichever comes first, and collect its output."""
    timeout_s = gate.timeout_s or default_timeout_s
    # A file, not a pipe: a gate's background children cannot keep us waiting on a pipe's end.
    with tempfile.TemporaryFile() as sink:
        started = time.monotonic()
        process = subprocess.Popen(
            ["bash", "-c", gate.run],
            cwd=worktree,
            env=gate_environment(),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            timed_out = not _wait_for_exit(process.pid, timeout_s)
        finally:
            _kill_session(process.pid)
            returncode = process.wait()
        exit_code = None if timed_out else returncode
        duration_s = time.monotonic() - started
        output = _read_end(sink, max_output_bytes)
    return GateRun(
        name=gate.name,
        exit_code=exit_code,
        duration_s=round(duration_s, 3),
        output=output,
        timed_out=timed_out,
        timeout_s=timeout_s,
    )


def _wait_for_exit(pid: int, timeout_s: float) -> bool:
    """Wait for `pid` to end without reaping it; False when `timeout_s` passed first.

    While it is unreaped its process group id cannot be reused, so killing the group after it
    is safe.
    """
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:  # a kernel without pidfds (before Linux 5.3): poll instead
        return _poll_for_exit(pid, timeout_s)
    try:
        readable, _, _ = select.select([pidfd], [], [], timeout_s)
        return bool(readable)
    finally:
        os.close(pidfd)


def _poll_for_exit(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _kill_session(pid: int) -> None:
    """Kill whatever the gate started, so nothing it left behind outlives it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _read_end(sink: BinaryIO, max_bytes: int) -> str:
    size = sink.seek(0, os.SEEK_END)
    start = max(0, size - max_bytes)
    sink.seek(start)
    # The ledger (PostgreSQL text) cannot hold NUL: a binary-ish output keeps its shape without.
    text = sink.read().decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    if start:
        return f"[first {start} bytes of output cut]\n{text}"
    return text
