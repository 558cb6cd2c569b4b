"""The planning model behind any OpenAI-compatible chat-completions endpoint (openai SDK)."""

from __future__ import annotations

from typing import Any, cast

import openai
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageFunctionToolCall

from ironclaw.co.domain.model_planning import ModelReply, ModelUnavailable

# The SDK requires a key; local endpoints (vLLM, Ollama, test servers) ignore it.
NO_API_KEY = "unused"


class OpenAIChatModel:
    """Asks one model, forcing it to call the given tool."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None,
        timeout_s: float,
        max_retries: int,
    ) -> None:
        self._model = model
        self._client = OpenAI(
            base_url=base_url,
            api_key=api_key or NO_API_KEY,
            timeout=timeout_s,
            max_retries=max_retries,
        )

    @property
    def name(self) -> str:
        return self._model

    def close(self) -> None:
        self._client.close()

    def call_tool(self, messages: list[dict[str, Any]], tool: dict[str, Any]) -> ModelReply:
        """One completion with `tool_choice` forcing `tool`; `ModelUnavailable` on any failure."""
        name = tool["function"]["name"]
        try:
            completion = self._client.chat.completions.create(
                model=self._model,
                messages=cast(Any, messages),
                tools=[cast(Any, tool)],
                tool_choice={"type": "function", "function": {"name": name}},
            )
        except openai.APIError as error:
            raise ModelUnavailable(f"{type(error).__name__}: {error}") from error
        if not completion.choices:
            raise ModelUnavailable("the model answered with no choices")
        message = completion.choices[0].message
        calls = [
            call
            for call in message.tool_calls or []
            if isinstance(call, ChatCompletionMessageFunctionToolCall)
        ]
        if not calls:
            return ModelReply({"role": "assistant", "content": message.content or ""})
        first = calls[0]
        echoed = {
            "role": "assistant",
            "content": message.content,
            "tool_calls": [first.model_dump(mode="json", exclude_none=True)],
        }
        return ModelReply(echoed, first.function.name, first.id, first.function.arguments)
