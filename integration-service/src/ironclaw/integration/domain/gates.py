"""A theater's gates: the checks in `.ironclaw.toml` an attempt must pass to reach mainline."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError

CONFIG_FILE = ".ironclaw.toml"


class InvalidGateConfig(ValueError):
    """The theater's `.ironclaw.toml` cannot be read as gates: nothing is promoted past it."""


class Gate(BaseModel):
    """One `[[gates]]` entry: a shell command run in the attempt's worktree."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    run: str = Field(min_length=1, max_length=20_000)
    timeout_s: float | None = Field(default=None, gt=0, le=86_400)


class GatesSection(BaseModel):
    """The part of `.ironclaw.toml` integration reads; other sections belong to others."""

    model_config = ConfigDict(extra="ignore")

    gates: list[Gate] = Field(default_factory=list, max_length=100)


def parse_gates(text: str) -> list[Gate]:
    """The gates declared in the text of a `.ironclaw.toml`, in the order they run."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidGateConfig(f"invalid {CONFIG_FILE}: {error}") from None
    try:
        section = GatesSection.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise InvalidGateConfig(f"invalid {CONFIG_FILE}: {problems}") from None
    names = [gate.name for gate in section.gates]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InvalidGateConfig(f"invalid {CONFIG_FILE}: gate names repeated: {duplicates}")
    return section.gates


@dataclass(frozen=True)
class GateRun:
    """What running one gate showed: its exit status (None when it timed out) and output."""

    name: str
    exit_code: int | None
    duration_s: float
    output: str
    timed_out: bool
    timeout_s: float

    @property
    def passed(self) -> bool:
        return not self.timed_out and self.exit_code == 0

    @property
    def failure_reason(self) -> str:
        """Why the gate refused the attempt, naming the gate."""
        if self.timed_out:
            return f"gate {self.name!r} timed out after {self.timeout_s:g}s"
        return f"gate {self.name!r} failed with exit code {self.exit_code}"


def tail(text: str, chars: int) -> str:
    """The last `chars` characters of `text`, where a failure's explanation usually is."""
    return text[-chars:] if len(text) > chars else text
