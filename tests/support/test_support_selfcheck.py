from openai import OpenAI
from openai_server import text_reply, tool_call


def test_scripted_model_speaks_openai(model_endpoint):
    url, model = model_endpoint
    model.queue(tool_call("finish", {"summary": "ok"}), text_reply("done"))
    client = OpenAI(base_url=url, api_key="k")
    first = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "hi"}],
        tools=[
            {"type": "function", "function": {"name": "finish", "parameters": {"type": "object"}}}
        ],
    )
    assert first.choices[0].message.tool_calls[0].function.name == "finish"
    assert first.usage.prompt_tokens == 100
    second = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert second.choices[0].message.content == "done"
    assert len(model.requests) == 2


def test_ledger_server(ledger_client):
    assert ledger_client.list_theaters() == []
