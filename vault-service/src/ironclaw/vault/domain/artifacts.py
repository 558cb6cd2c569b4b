"""Artifacts: files other services keep (gate output, AARs) under `$IRONCLAW_HOME/artifacts`.

An upload streams into a hidden temporary file and is moved to `artifacts/<artifact_id>` only once
complete and within the size limit, so a reader never sees a partial artifact.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from ironclaw.contracts.api import ArtifactView
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.kit.errors import NotFound, Unprocessable
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.vault.domain.errors import PayloadTooLarge
from ironclaw.vault.domain.layout import VaultLayout

MAX_NAME_CHARS = 255
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

log = get_logger(__name__)


@dataclass(frozen=True)
class StoredArtifact:
    """An artifact on disk: where its bytes are, and the name it was stored under."""

    path: Path
    name: str


class ArtifactStore:
    """The artifacts of one vault, each at most `max_bytes` long."""

    def __init__(self, layout: VaultLayout, max_bytes: int) -> None:
        self._layout = layout
        self.max_bytes = max_bytes

    def upload(self, name: str, declared_size: int | None = None) -> ArtifactUpload:
        """An upload to feed with `write` and finish with `commit` (discarded if not committed)."""
        if not name or len(name) > MAX_NAME_CHARS or CONTROL.search(name):
            raise Unprocessable(
                f"invalid artifact name: 1 to {MAX_NAME_CHARS} characters, no control characters",
                field="name",
            )
        if declared_size is not None and declared_size > self.max_bytes:
            raise self.too_large()
        folder = self._layout.artifacts
        folder.mkdir(parents=True, exist_ok=True)
        return ArtifactUpload(self, name, folder / f".upload-{uuid.uuid4().hex}")

    def find(self, artifact_id: str) -> StoredArtifact:
        """The stored artifact `artifact_id` (404 if there is none, 422 for a malformed id)."""
        path = self._layout.artifact(artifact_id)
        if not path.is_file():
            raise NotFound(f"no artifact {artifact_id!r}")
        try:
            name = str(json.loads(_metadata_path(path).read_text())["name"])
        except (OSError, ValueError, KeyError):
            name = artifact_id
        return StoredArtifact(path=path, name=name)

    def too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"an artifact may hold at most {self.max_bytes} bytes")

    def keep(self, temporary: Path, name: str, size: int, sha256: str) -> ArtifactView:
        """Move a complete upload into place as a new artifact."""
        artifact_id = new_id("art")
        path = self._layout.artifact(artifact_id)
        metadata = {"artifact_id": artifact_id, "name": name, "size": size, "sha256": sha256}
        _metadata_path(path).write_text(json.dumps(metadata))
        os.replace(temporary, path)
        log.info("vault.artifact.stored", artifact_id=artifact_id, size=size)
        return ArtifactView(
            artifact_id=artifact_id, name=name, size=size, sha256=sha256, path=str(path)
        )


class ArtifactUpload:
    """One artifact being received: bytes in, size and digest kept, the limit enforced."""

    def __init__(self, store: ArtifactStore, name: str, temporary: Path) -> None:
        self._store = store
        self._name = name
        self._temporary = temporary
        self._file: BinaryIO = open(temporary, "wb")  # noqa: SIM115 - closed by commit/discard
        self._digest = hashlib.sha256()
        self._size = 0

    def write(self, chunk: bytes) -> None:
        """Append `chunk`; past the limit the upload is discarded and PayloadTooLarge raised."""
        self._size += len(chunk)
        if self._size > self._store.max_bytes:
            self.discard()
            raise self._store.too_large()
        self._digest.update(chunk)
        self._file.write(chunk)

    def commit(self) -> ArtifactView:
        """Store what was written as a new artifact."""
        self._file.close()
        return self._store.keep(self._temporary, self._name, self._size, self._digest.hexdigest())

    def discard(self) -> None:
        self._file.close()
        self._temporary.unlink(missing_ok=True)

    def __enter__(self) -> ArtifactUpload:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is not None:
            self.discard()


def _metadata_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.json")
