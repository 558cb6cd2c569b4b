"""structlog: JSON lines with `service`, `run_id`, `order_id`, `attempt` bound from contextvars."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import structlog

from ironclaw.contracts.kit.secrets import Redactor, environment_secrets

CONTEXT_KEYS = ("run_id", "order_id", "attempt", "request_id", "theater")
QUIET_LIBRARIES = ("httpx", "httpcore")
_redactors: list[Redactor] = []  # the one configure_logging installed, to learn more secrets


def configure_logging(
    service: str, *, level: str = "INFO", json: bool = True, secrets: Iterable[str] = ()
) -> None:
    """Route structlog and the standard library through one renderer, bound to `service`.

    Every line is redacted: `secrets` (the service's configured keys and tokens), values of
    secret-named variables in the environment, and common token shapes never reach the log.
    """
    redactor = Redactor([*secrets, *environment_secrets(os.environ)])
    _redactors[:] = [redactor]
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        redactor.log_processor,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for chatty in QUIET_LIBRARIES:
        # A line per HTTP request between services drowns what the services say they do.
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)


def add_log_secrets(secrets: Iterable[str]) -> None:
    """Redact these values too from every log line from now on (keys a service reads after
    logging is configured, such as those its model profiles name)."""
    for redactor in _redactors:
        redactor.add(secrets)


@contextmanager
def bound_context(**values: Any) -> Iterator[None]:
    """Bind ids (run_id, order_id, attempt, ...) to every log line inside the block."""
    unknown = set(values) - set(CONTEXT_KEYS)
    if unknown:
        raise ValueError(f"unknown log context keys: {sorted(unknown)}")
    with structlog.contextvars.bound_contextvars(**values):
        yield


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
