"""Artifacts kept as files in a folder: for tests and tools that run without a vault."""

from __future__ import annotations

import re
from pathlib import Path

from ironclaw.contracts.ids import new_id

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class DirectoryArtifactStore:
    """An `ArtifactStore` writing `<folder>/<artifact id>/<name>`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def store_artifact(self, name: str, content: bytes) -> str:
        artifact_id = new_id("art")
        target = self.folder / artifact_id / (_UNSAFE.sub("_", name).strip(".") or "artifact")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        return artifact_id

    def read_artifact(self, artifact_id: str) -> bytes:
        """The content stored under `artifact_id`."""
        (stored,) = (self.folder / artifact_id).iterdir()
        return stored.read_bytes()
