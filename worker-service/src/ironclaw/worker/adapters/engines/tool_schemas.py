"""The openai engine's tools as the model sees them (ARCHITECTURE section 5: exactly these)."""

from __future__ import annotations

from typing import Any

TOOL_NAMES = ("list_files", "read_file", "write_file", "edit_file", "run_command", "finish")


def _function(name: str, description: str, properties: dict[str, Any], required: list[str]) -> Any:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            },
        },
    }


_PATH = {"type": "string", "description": "a path relative to the worktree root"}

TOOLS: list[Any] = [
    _function(
        "list_files",
        "List the files under a directory of the worktree, recursively (.git left out).",
        {"path": {**_PATH, "default": "."}},
        [],
    ),
    _function("read_file", "Read a UTF-8 text file of the worktree.", {"path": _PATH}, ["path"]),
    _function(
        "write_file",
        "Create or overwrite a file of the worktree with the given content.",
        {"path": _PATH, "content": {"type": "string"}},
        ["path", "content"],
    ),
    _function(
        "edit_file",
        "Replace one exact occurrence of `old` with `new` in a file; `old` must occur once.",
        {"path": _PATH, "old": {"type": "string"}, "new": {"type": "string"}},
        ["path", "old", "new"],
    ),
    _function(
        "run_command",
        "Run an allow-listed program in the worktree (no shell); returns exit code and output.",
        {
            "command": {
                "description": "argv list, or a command line split like a shell would",
                "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}],
            },
            "timeout_s": {"type": "number", "description": "optional, capped by the policy"},
        },
        ["command"],
    ),
    _function(
        "finish",
        "End the attempt: say what was done and whether the objective is met.",
        {
            "summary": {"type": "string", "description": "what was done; first line is a title"},
            "outcome": {"type": "string", "enum": ["completed", "failed", "blocked"]},
        },
        ["summary", "outcome"],
    ),
]


TOOL_LEVELS = {
    "read": ("list_files", "read_file", "finish"),
    "write": ("list_files", "read_file", "write_file", "edit_file", "finish"),
    "run": TOOL_NAMES,
}
"""The tools each profile tool level offers."""


def tools_at(level: str) -> list[Any]:
    """The tool schemas a model at `level` is offered."""
    names = TOOL_LEVELS[level]
    return [tool for tool in TOOLS if tool["function"]["name"] in names]
