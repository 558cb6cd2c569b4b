"""A real HTTP server speaking the OpenAI chat-completions protocol, answering from a script.

Tests start it, queue the replies the "model" should give (text or tool calls), point an engine
or planner at `base_url`, and read back the requests it received. It is a stand-in for an
external model endpoint, the one thing the fleet does not control.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

Reply = dict[str, Any]
"""One scripted answer: a `message` dict, or a callable deciding from the request."""


def text_reply(content: str) -> Reply:
    return {"role": "assistant", "content": content}


def tool_call(name: str, arguments: dict[str, Any], call_id: str | None = None) -> Reply:
    return tool_calls([(name, arguments)], call_id)


def tool_calls(calls: list[tuple[str, dict[str, Any]]], call_id: str | None = None) -> Reply:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": call_id or f"call_{n}_{time.monotonic_ns()}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
            for n, (name, arguments) in enumerate(calls)
        ],
    }


@dataclass
class ScriptedModel:
    """The script: replies are served in order; when it runs out, `default` answers."""

    replies: deque[Reply | Callable[[dict[str, Any]], Reply]] = field(default_factory=deque)
    default: Reply | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    delay_s: float = 0.0
    status_codes: deque[int] = field(default_factory=deque)
    retry_after: str = "0"  # the Retry-After header of a scripted failure
    usage: tuple[int, int] = (100, 20)

    def queue(self, *replies: Reply | Callable[[dict[str, Any]], Reply]) -> None:
        self.replies.extend(replies)


def _app(model: ScriptedModel) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> JSONResponse:
        body = await request.json()
        model.requests.append(body)
        if model.status_codes:
            status = model.status_codes.popleft()
            error = {"error": {"message": "scripted failure", "type": "server_error"}}
            return JSONResponse(
                error, status_code=status, headers={"Retry-After": model.retry_after}
            )
        if model.delay_s:  # concurrent requests wait side by side, as at a real endpoint
            await asyncio.sleep(model.delay_s)
        if model.replies:
            scripted = model.replies.popleft()
        elif model.default is not None:
            scripted = model.default
        else:
            scripted = text_reply("(the script is empty)")
        message = scripted(body) if callable(scripted) else scripted
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        prompt, completion = model.usage
        return JSONResponse(
            {
                "id": f"chatcmpl-{len(model.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "scripted"),
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            }
        )

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": "scripted", "object": "model"}]}

    return app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve `app` on a free loopback port for the block; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def openai_server() -> Iterator[tuple[str, ScriptedModel]]:
    """A scripted model endpoint; yields (`base_url` ending in /v1, the script)."""
    model = ScriptedModel()
    with serve(_app(model)) as url:
        yield f"{url}/v1", model
