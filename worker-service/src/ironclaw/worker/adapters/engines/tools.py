"""The openai engine's file and command tools, each checked against the tool policy first."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ironclaw.worker.adapters.engines.processes import run_process
from ironclaw.worker.adapters.engines.tool_schemas import TOOL_LEVELS
from ironclaw.worker.domain.engine import ToolUse
from ironclaw.worker.domain.policy import (
    PolicyRefusal,
    command_argv,
    resolve_inside,
    scrubbed_environment,
)

MAX_LISTED = 1000
MAX_READ_CHARS = 100_000
MAX_WRITE_CHARS = 1_000_000


class ToolError(Exception):
    """A tool call that cannot be done (bad arguments, missing file): told to the model."""


@dataclass(frozen=True)
class ToolPolicy:
    """What `run_command` may do."""

    allowed_programs: Collection[str]
    command_timeout_s: float
    output_cap: int
    environment: Mapping[str, str] = field(default_factory=dict)
    tool_level: str = "run"


@dataclass
class Toolbox:
    """The tools of one attempt, bound to its worktree; counts what they did."""

    worktree: Path
    policy: ToolPolicy
    remaining_s: Callable[[], float]
    stop: threading.Event | None = None  # set: a running command's process group is killed
    calls: int = 0
    written: set[str] = field(default_factory=set)
    commands_run: list[str] = field(default_factory=list)

    def call(self, name: str, arguments: str) -> tuple[str, ToolUse]:
        """Run tool `name` with its JSON `arguments`: the result for the model, and the audit."""
        started = time.monotonic()
        self.calls += 1
        refused: str | None = None
        try:
            parsed = _arguments(arguments)
            result = self._dispatch(name, parsed)
        except PolicyRefusal as refusal:
            refused = str(refusal)
            result = f"error: {refusal}"
        except ToolError as error:
            result = f"error: {error}"
        except (OSError, RuntimeError) as error:  # e.g. a symlink loop, a permission error
            result = f"error: {type(error).__name__}: {error}"
        use = ToolUse(
            tool=name,
            arguments_summary=_summary(arguments),
            duration_ms=int((time.monotonic() - started) * 1000),
            result_size=len(result),
            refused=refused,
        )
        return result, use

    def _dispatch(self, name: str, args: dict[str, Any]) -> str:
        tools: dict[str, Callable[[dict[str, Any]], str]] = {
            "list_files": self.list_files,
            "read_file": self.read_file,
            "write_file": self.write_file,
            "edit_file": self.edit_file,
            "run_command": self.run_command,
        }
        if name not in tools:
            raise ToolError(f"unknown tool {name!r}; tools: {', '.join(tools)}, finish")
        if name not in TOOL_LEVELS[self.policy.tool_level]:
            raise PolicyRefusal(
                f"refused: {name} is not allowed at tool level {self.policy.tool_level!r}"
            )
        return tools[name](args)

    def list_files(self, args: dict[str, Any]) -> str:
        root = self.worktree.resolve()
        start = resolve_inside(self.worktree, _text_arg(args, "path", default="."))
        if start.is_file():
            return str(start.relative_to(root))
        if not start.is_dir():
            raise ToolError(f"no such directory: {args.get('path')}")
        listed: list[str] = []
        for folder, dirs, files in os.walk(start):
            dirs[:] = sorted(d for d in dirs if d != ".git")
            base = Path(folder).relative_to(root)
            shown = sorted(f for f in files if f != ".git")  # a worktree's .git is a file
            listed += [f"{base / d}/" for d in dirs] + [str(base / f) for f in shown]
            if len(listed) > MAX_LISTED:
                return "\n".join([*listed[:MAX_LISTED], f"[... more than {MAX_LISTED} entries]"])
        return "\n".join(listed) or "(empty)"

    def read_file(self, args: dict[str, Any]) -> str:
        path = resolve_inside(self.worktree, _text_arg(args, "path"))
        if not path.is_file():
            raise ToolError(f"no such file: {args['path']}")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ToolError(f"{args['path']} is not UTF-8 text") from None
        if len(text) > MAX_READ_CHARS:
            return text[:MAX_READ_CHARS] + f"\n[... {len(text) - MAX_READ_CHARS} chars more]"
        return text

    def write_file(self, args: dict[str, Any]) -> str:
        path = resolve_inside(self.worktree, _text_arg(args, "path"), writing=True)
        content = _text_arg(args, "content", allow_empty=True)
        if len(content) > MAX_WRITE_CHARS:
            raise ToolError(f"content is over {MAX_WRITE_CHARS} characters")
        if path.is_dir():
            raise ToolError(f"{args['path']} is a directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(path, content)
        self.written.add(str(path.relative_to(self.worktree.resolve())))
        return f"wrote {len(content.encode())} bytes to {args['path']}"

    def edit_file(self, args: dict[str, Any]) -> str:
        path = resolve_inside(self.worktree, _text_arg(args, "path"), writing=True)
        old = _text_arg(args, "old")
        new = _text_arg(args, "new", allow_empty=True)
        if not path.is_file():
            raise ToolError(f"no such file: {args['path']}")
        text = path.read_text(encoding="utf-8")
        found = text.count(old)
        if found == 0:
            raise ToolError(f"the old text was not found in {args['path']}")
        if found > 1:
            raise ToolError(
                f"the old text occurs {found} times in {args['path']}; include more context"
            )
        _write(path, text.replace(old, new, 1))
        self.written.add(str(path.relative_to(self.worktree.resolve())))
        return f"edited {args['path']}"

    def run_command(self, args: dict[str, Any]) -> str:
        argv = command_argv(args.get("command"), self.policy.allowed_programs)
        requested = args.get("timeout_s")
        timeout = self.policy.command_timeout_s
        if isinstance(requested, int | float) and requested > 0:
            timeout = min(timeout, float(requested))
        timeout = min(timeout, self.remaining_s())
        if timeout <= 0:
            raise ToolError("no time left before the order's deadline")
        done = run_process(
            argv,
            cwd=self.worktree,
            environment=scrubbed_environment(self.policy.environment),
            timeout_s=timeout,
            output_cap=self.policy.output_cap,
            stop=self.stop,
        )
        status = "timed out" if done.timed_out else f"exit code {done.exit_code}"
        if done.stopped:
            status = "stopped (the attempt was cancelled)"
        self.commands_run.append(f"{' '.join(argv)} ({status})")
        return f"{status}\n{done.output}"


def _arguments(raw: str) -> dict[str, Any]:
    try:
        parsed = json.loads(raw or "{}")
    except json.JSONDecodeError as error:
        raise ToolError(f"the arguments are not valid JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise ToolError("the arguments must be a JSON object")
    return parsed


def _text_arg(
    args: dict[str, Any], name: str, *, default: str | None = None, allow_empty: bool = False
) -> str:
    value = args.get(name, default)
    if not isinstance(value, str):
        raise ToolError(f"argument {name!r} (a string) is required")
    if not value and not allow_empty:
        raise ToolError(f"argument {name!r} must not be empty")
    return value


def _write(path: Path, content: str) -> None:
    # O_NOFOLLOW: the path was resolved and checked; never follow a link put there since.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    with os.fdopen(os.open(path, flags, 0o644), "w", encoding="utf-8") as handle:
        handle.write(content)


def _summary(arguments: str) -> str:
    try:
        parsed = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        return arguments[:300]
    if not isinstance(parsed, dict):
        return arguments[:300]
    shown = {
        key: (value[:80] + "…" if isinstance(value, str) and len(value) > 80 else value)
        for key, value in parsed.items()
    }
    return json.dumps(shown)[:500]
