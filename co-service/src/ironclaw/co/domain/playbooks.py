"""Playbooks: versioned TOML templates that expand a known kind of request into Orders."""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ironclaw.co.domain.drafts import OrderDraft, PlanError, checked_plan, validation_summary
from ironclaw.contracts.models import ORDER_KEY_PATTERN, OrderBudget

PLACEHOLDERS = frozenset({"message", "theater"})
PLAYBOOK_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"


def check_template(text: str) -> str:
    """`text` if its only placeholders are `{message}` and `{theater}`, plain; else ValueError."""
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as error:
        raise ValueError(f"{error} (write {{{{ and }}}} for literal braces)") from None
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            raise ValueError(
                f"unknown placeholder {{{name}}}: only {{message}} and {{theater}} are allowed"
            )
    return text


class OrderTemplate(BaseModel):
    """One Order a playbook creates; objective and criteria may use `{message}`, `{theater}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=ORDER_KEY_PATTERN)
    objective: str = Field(min_length=1, max_length=10_000)
    success_criteria: list[str] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)
    engine: str | None = None
    profile: str | None = None
    commands: list[str] = Field(default_factory=list)
    budget: OrderBudget | None = None

    @field_validator("objective")
    @classmethod
    def _objective_placeholders(cls, value: str) -> str:
        return check_template(value.strip())

    @field_validator("success_criteria")
    @classmethod
    def _criteria_placeholders(cls, value: list[str]) -> list[str]:
        return [check_template(item) for item in value]


class Playbook(BaseModel):
    """A playbook file: who it is for (keywords) and the Orders it expands into."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=PLAYBOOK_NAME_PATTERN)
    version: int = Field(ge=1)
    description: str = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list)
    default: bool = False
    orders: list[OrderTemplate] = Field(min_length=1)

    @model_validator(mode="after")
    def _orders_form_a_plan(self) -> Playbook:
        checked_plan(self.expand(message="(message)", theater="(theater)"))
        return self

    @property
    def ref(self) -> str:
        """`name@version`, as Runs record it (`playbook:<ref>`)."""
        return f"{self.name}@{self.version}"

    def expand(self, *, message: str, theater: str) -> list[OrderDraft]:
        """The playbook's Orders for one request; commands are never templated."""
        values = {"message": message.strip(), "theater": theater}
        return [
            OrderDraft(
                key=template.key,
                objective=template.objective.format_map(values),
                success_criteria=tuple(c.format_map(values) for c in template.success_criteria),
                depends_on=tuple(template.depends_on),
                engine=template.engine,
                profile=template.profile,
                commands=tuple(template.commands),
                task_type=self.name,
                budget=template.budget,
            )
            for template in self.orders
        ]


@dataclass(frozen=True)
class PlaybookLibrary:
    """The playbooks of a garrison: every version by `name@version`, the newest by name."""

    versions: dict[str, Playbook]
    problems: tuple[str, ...] = ()

    @property
    def newest(self) -> list[Playbook]:
        """The newest version of each playbook, by name."""
        by_name: dict[str, Playbook] = {}
        for playbook in self.versions.values():
            known = by_name.get(playbook.name)
            if known is None or playbook.version > known.version:
                by_name[playbook.name] = playbook
        return [by_name[name] for name in sorted(by_name)]

    def find(self, wanted: str) -> Playbook:
        """The playbook a Run asked for: `name` (its newest version) or `name@version`."""
        if "@" in wanted:
            found = self.versions.get(wanted)
        else:
            found = next((p for p in self.newest if p.name == wanted), None)
        if found is None:
            known = ", ".join(sorted(self.versions)) or "none"
            raise PlanError(f"unknown playbook {wanted!r}; known: {known}")
        return found

    def default(self) -> Playbook:
        """The playbook for a request no keyword matches: the newest marked `default`."""
        defaults = [p for p in self.newest if p.default]
        if not defaults:
            raise PlanError("no playbook matched the request and none is marked default")
        return defaults[0]


def load_playbooks(folder: Path) -> PlaybookLibrary:
    """Every `*.toml` playbook under `folder`; a file that cannot be used becomes a problem.

    `PlanError` when there is no usable playbook at all.
    """
    if not folder.is_dir():
        raise PlanError(
            f"no playbooks: {folder} is not a folder (set IRONCLAW_GARRISON_DIR to the garrison)"
        )
    versions: dict[str, Playbook] = {}
    problems: list[str] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            playbook = _read_playbook(path)
        except PlanError as error:
            problems.append(f"{path.name}: {error}")
            continue
        if playbook.ref in versions:
            problems.append(f"{path.name}: {playbook.ref} is already defined by another file")
            continue
        versions[playbook.ref] = playbook
    if not versions:
        detail = f": {'; '.join(problems)}" if problems else ""
        raise PlanError(f"no usable playbook in {folder}{detail}")
    defaults = [p.ref for p in PlaybookLibrary(versions).newest if p.default]
    if len(defaults) > 1:
        problems.append(
            f"several playbooks are marked default ({', '.join(defaults)}); {defaults[0]} is used"
        )
    return PlaybookLibrary(versions, tuple(problems))


def _read_playbook(path: Path) -> Playbook:
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PlanError(f"cannot be read: {error}") from None
    try:
        return Playbook.model_validate(data)
    except ValidationError as error:
        raise PlanError(validation_summary(error)) from None
