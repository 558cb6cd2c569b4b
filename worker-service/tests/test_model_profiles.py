"""Model profiles as the worker applies them: the Order's profile picks the engine and its
settings (endpoint, model, key by variable name, prices, budgets, tool level), a theater's
`.ironclaw.toml` amends it, and a profile that cannot be used fails the Order saying why."""

from __future__ import annotations

import pytest
from openai_server import tool_call

from ironclaw.contracts.models import OrderBudget
from ironclaw.contracts.profiles import ModelProfile, ProfileBudget
from ironclaw.worker.domain.execute import execute_order
from ironclaw.worker.domain.profiles import ProfileRefused, resolve_profile

FINISH = tool_call("finish", {"summary": "Done", "outcome": "completed"})


def settled(ledger_client, order_id):
    return ledger_client.read_stream(order_id).events[-1]


@pytest.fixture
def profiles(model_endpoint) -> dict[str, ModelProfile]:
    url, _ = model_endpoint
    return {
        "scripted": ModelProfile(
            name="scripted",
            engine="openai",
            base_url=url,
            model="profile-model",
            api_key_env="SCRIPTED_MODEL_KEY",
            sampling={"temperature": 0.3},
            input_cost_per_1k=1.0,
            output_cost_per_1k=2.0,
        ),
        "steps": ModelProfile(name="steps", engine="command"),
        "reader": ModelProfile(
            name="reader", base_url=url, model="m", tool_level="read",
            budget=ProfileBudget(tool_calls=2),
        ),
    }  # fmt: skip


def test_the_orders_profile_sets_the_engine_model_key_and_prices(
    model_endpoint, profiles, issue_order, make_services, ledger_client, monkeypatch
):
    monkeypatch.setenv("SCRIPTED_MODEL_KEY", "scripted-key-value")
    _, model = model_endpoint
    model.queue(FINISH)
    message = issue_order(profile="scripted")  # the worker itself has no model configured

    assert execute_order(message, make_services(profiles=profiles)) == "completed"

    (request,) = model.requests
    assert request["model"] == "profile-model"
    assert request["temperature"] == 0.3
    aar = settled(ledger_client, message.order_id).data["aar"]
    assert aar["cost_usd"] == pytest.approx(0.14)  # 100 in at $1/1k, 20 out at $2/1k
    assert ledger_client.get_run(message.run_id).cost_usd == pytest.approx(0.14)


def test_a_profile_switch_changes_the_engine_without_code_changes(
    profiles, issue_order, make_services, ledger_client
):
    profiles["scripted"] = ModelProfile(name="scripted", engine="command")
    message = issue_order(profile="scripted")

    assert execute_order(message, make_services(profiles=profiles)) == "failed"

    started = next(
        e for e in ledger_client.read_stream(message.order_id).events if e.type == "AttemptStarted"
    )
    assert started.data["engine"] == "command"
    reason = settled(ledger_client, message.order_id).data["reason"]
    assert reason == "the order lists no commands for the command engine"


def test_a_theater_overrides_its_profiles_fields(
    model_endpoint, profiles, issue_order, make_services, commit_on_mainline, monkeypatch
):
    monkeypatch.setenv("SCRIPTED_MODEL_KEY", "scripted-key-value")
    commit_on_mainline({".ironclaw.toml": '[profiles.scripted]\nmodel = "theater-model"\n'})
    _, model = model_endpoint
    model.queue(FINISH)

    assert execute_order(issue_order(profile="scripted"), make_services(profiles=profiles)) == (
        "completed"
    )

    assert model.requests[0]["model"] == "theater-model"
    assert model.requests[0]["temperature"] == 0.3


def test_a_missing_key_or_an_unknown_profile_fails_the_order_saying_why(
    profiles, issue_order, make_services, ledger_client, monkeypatch
):
    monkeypatch.delenv("SCRIPTED_MODEL_KEY", raising=False)
    no_key = issue_order(profile="scripted")
    unknown = issue_order(profile="nonesuch")
    services = make_services(profiles=profiles)

    assert execute_order(no_key, services) == "failed"
    assert execute_order(unknown, services) == "failed"

    assert settled(ledger_client, no_key.order_id).data["reason"] == (
        "profile 'scripted' reads its API key from SCRIPTED_MODEL_KEY, which is not set "
        "(nor SCRIPTED_MODEL_KEY_FILE)"
    )
    assert settled(ledger_client, unknown.order_id).data["reason"] == (
        "unknown profile 'nonesuch'; profiles: reader, scripted, steps"
    )


def test_the_profiles_tool_level_and_budget_bind_the_model(
    model_endpoint, profiles, issue_order, make_services, ledger_client
):
    _, model = model_endpoint
    model.queue(tool_call("write_file", {"path": "a.txt", "content": "x"}))
    model.default = tool_call("read_file", {"path": "a.txt"})
    message = issue_order(profile="reader")

    assert execute_order(message, make_services(profiles=profiles)) == "failed"

    offered = [tool["function"]["name"] for tool in model.requests[0]["tools"]]
    assert offered == ["list_files", "read_file", "finish"]
    first_answer = next(m for m in model.requests[1]["messages"] if m["role"] == "tool")
    assert (
        first_answer["content"] == "error: refused: write_file is not allowed at tool level 'read'"
    )
    reason = settled(ledger_client, message.order_id).data["reason"]
    assert reason.startswith("budget_exceeded:tool_calls (2 used")


def test_the_orders_own_budget_wins_over_its_profiles(
    model_endpoint, profiles, issue_order, make_services, ledger_client
):
    _, model = model_endpoint
    model.default = tool_call("list_files", {})
    message = issue_order(profile="reader", budget=OrderBudget(tool_calls=4))

    assert execute_order(message, make_services(profiles=profiles)) == "failed"

    assert settled(ledger_client, message.order_id).data["aar"]["tool_calls"] == 4


def test_resolving_a_profile_checks_task_types_and_theater_overrides():
    profiles = {
        "docs-only": ModelProfile(name="docs-only", task_types=["docs"], model="small"),
        "default": ModelProfile(name="default", model="house"),
    }

    def resolve(name, task_type=None, overrides=None):
        return resolve_profile(
            name, task_type=task_type, profiles=profiles, overrides=overrides or {}
        )

    assert resolve("docs-only", "docs").model == "small"
    assert resolve(None).model == "house"  # an Order naming none runs on `default`
    assert resolve_profile(None, task_type=None, profiles={}, overrides={}) is None
    with pytest.raises(ProfileRefused, match="does not take feature orders"):
        resolve("docs-only", "feature")
    with pytest.raises(ProfileRefused, match=r"profiles\.default\.tool_level"):
        resolve("default", overrides={"default": {"tool_level": "root"}})
    assert resolve("default", overrides={"default": {"model": "theater"}}).model == "theater"
