"""Checks on what a theater is registered from: its source (a path or git URL) and mainline."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from ironclaw.contracts.kit.errors import Unprocessable
from ironclaw.vault.adapters.repository import is_valid_branch_name

CLONE_SCHEMES = frozenset({"file", "git", "http", "https", "ssh"})
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/]")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def checked_source(source: str) -> str:
    """`source` if git may clone it: an absolute local folder or a file/git/http(s)/ssh URL."""
    if CONTROL.search(source) or source.startswith("-") or "::" in source:
        raise Unprocessable(f"invalid source {redacted(source)!r}", field="source")
    if URL.match(source):
        scheme = urlsplit(source).scheme.lower()
        if scheme not in CLONE_SCHEMES:
            raise Unprocessable(
                f"cannot clone over {scheme!r}: use one of {sorted(CLONE_SCHEMES)}",
                field="source",
            )
        return source
    if SCP_LIKE.match(source):
        return source
    path = Path(source)
    if not path.is_absolute():
        raise Unprocessable(
            f"source {source!r} is neither a git URL nor an absolute path", field="source"
        )
    if not path.is_dir():
        raise Unprocessable(f"source {source!r} is not a folder on the vault's host")
    return source


def checked_mainline(mainline: str) -> str:
    """`mainline` if it is a branch name git accepts, else 422."""
    if not is_valid_branch_name(mainline):
        raise Unprocessable(f"invalid mainline branch name {mainline!r}", field="mainline")
    return mainline


def redacted(text: str, source: str | None = None) -> str:
    """`text` with the password of any URL in it (or in `source`) replaced by `***`."""
    secrets = [_password(source)] if source else []
    for secret in filter(None, secrets):
        text = text.replace(secret, "***")
    return re.sub(r"(://[^/@:\s]+):[^/@\s]+@", r"\1:***@", text)


def _password(source: str) -> str | None:
    if not URL.match(source):
        return None
    try:
        return urlsplit(source).password
    except ValueError:
        return None
