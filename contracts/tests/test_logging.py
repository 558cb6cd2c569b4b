from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from ironclaw.contracts.kit.logging import bound_context, configure_logging, get_logger


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back for the other tests."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers = handlers
    root.setLevel(level)


def _lines(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


def test_emits_json_lines_with_service_and_bound_ids(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("worker")
    log = get_logger()

    with bound_context(run_id="run_1", order_id="ord_1", attempt=2):
        log.info("worker.attempt.claimed", lease_s=60)

    [line] = _lines(capsys.readouterr().err)
    assert line["event"] == "worker.attempt.claimed"
    assert line["service"] == "worker"
    assert (line["run_id"], line["order_id"], line["attempt"]) == ("run_1", "ord_1", 2)
    assert line["lease_s"] == 60
    assert line["level"] == "info"
    assert line["timestamp"].endswith("Z")


def test_context_is_unbound_after_the_block(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("worker")
    log = get_logger()

    with bound_context(run_id="run_1"):
        log.info("inside")
    log.info("outside")

    inside, outside = _lines(capsys.readouterr().err)
    assert inside["run_id"] == "run_1"
    assert "run_id" not in outside
    assert outside["service"] == "worker"


def test_context_is_unbound_even_when_the_block_raises(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("co")

    with pytest.raises(RuntimeError), bound_context(order_id="ord_9"):
        raise RuntimeError("boom")
    get_logger().info("after")

    [line] = _lines(capsys.readouterr().err)
    assert "order_id" not in line


def test_nested_blocks_restore_the_outer_value(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("co")
    log = get_logger()

    with bound_context(run_id="run_outer"):
        with bound_context(run_id="run_inner", order_id="ord_1"):
            log.info("inner")
        log.info("outer")

    inner, outer = _lines(capsys.readouterr().err)
    assert (inner["run_id"], inner["order_id"]) == ("run_inner", "ord_1")
    assert outer["run_id"] == "run_outer"
    assert "order_id" not in outer


def test_bound_context_refuses_unknown_keys(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("co")

    with pytest.raises(ValueError, match="runid"), bound_context(runid="run_1"):
        pass  # pragma: no cover - never entered
    get_logger().info("after")

    [line] = _lines(capsys.readouterr().err)
    assert "runid" not in line


def test_standard_library_logs_are_json_with_the_service(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("vault")

    with bound_context(run_id="run_7"):
        logging.getLogger("httpx").warning("retrying %s", "GET /health")

    [line] = _lines(capsys.readouterr().err)
    assert line["event"] == "retrying GET /health"
    assert line["service"] == "vault"
    assert line["run_id"] == "run_7"
    assert line["logger"] == "httpx"
    assert line["level"] == "warning"


def test_level_filters_lower_levels(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("duty", level="warning")
    log = get_logger()

    log.info("quiet")
    log.warning("loud")
    logging.getLogger("lib").info("quiet too")

    assert [line["event"] for line in _lines(capsys.readouterr().err)] == ["loud"]


def test_exceptions_are_rendered_into_the_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("gateway")

    try:
        raise KeyError("missing")
    except KeyError:
        get_logger().exception("gateway.reply.failed")

    [line] = _lines(capsys.readouterr().err)
    assert line["event"] == "gateway.reply.failed"
    assert "KeyError" in line["exception"]


def test_reconfiguring_replaces_the_service(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("first")
    configure_logging("second")

    get_logger().info("hello")

    [line] = _lines(capsys.readouterr().err)
    assert line["service"] == "second"
    assert len(logging.getLogger().handlers) == 1
