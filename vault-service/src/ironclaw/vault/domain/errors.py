"""The vault's own errors, beside the kit's NotFound / Conflict / Unprocessable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ironclaw.contracts.kit.errors import ServiceError
from ironclaw.contracts.kit.git import GitError


class PayloadTooLarge(ServiceError):
    status = 413
    title = "Payload too large"


class LedgerUnavailable(ServiceError):
    """The ledger did not answer as it should: nothing the vault did was recorded."""

    status = 503
    title = "Ledger unavailable"


class RepositoryMissing(ServiceError):
    """The ledger knows a theater whose repository is not on disk."""

    status = 500
    title = "Theater repository missing"


class GitFailed(ServiceError):
    """A git command the vault ran failed; carries what git printed."""

    status = 500
    title = "Git failed"


@contextmanager
def git_failures_reported() -> Iterator[None]:
    """Turn a failing git command into GitFailed, which any process can also unpickle."""
    try:
        yield
    except GitError as error:
        raise GitFailed(str(error)) from None
