"""docker-compose.yml and the Dockerfiles agree with the workspace: every service built, wired."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LIBRARIES = {"contracts"}
COMPOSE_SERVICE_FOR_FOLDER = {
    "api-gateway": "gateway",
    "ledger-service": "ledger",
    "co-service": "co",
    "vault-service": "vault",
    "worker-service": "worker",
    "observer-service": "observer",
    "integration-service": "integration",
    "do-service": "duty",
    "sentinel-service": "sentinel",
    "learning-service": "learning",
}
LEDGER_SERVICES = {"ledger", "ledger-relay"}
THEATER_SERVICES = {"vault", "worker", "integration"}
INFRASTRUCTURE = {"postgres", "redis"}


def workspace_members() -> list[str]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members: list[str] = root["tool"]["uv"]["workspace"]["members"]
    return members


def service_folders() -> list[str]:
    return [member for member in workspace_members() if member not in LIBRARIES]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever of compose's two forms it uses."""
    value = service.get("environment") or {}
    if isinstance(value, list):
        return dict(item.partition("=")[::2] for item in value)
    return {key: str(item) for key, item in value.items()}


def depends_on(service: dict[str, Any]) -> dict[str, dict[str, str]]:
    value = service.get("depends_on") or {}
    if isinstance(value, list):
        return {name: {"condition": "service_started"} for name in value}
    return dict(value)


def with_defaults(text: str) -> str:
    """Resolve compose's `${VAR:-default}` to its default, as on a machine without overrides."""
    return re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", text)


def cli_script(folder: str) -> str:
    project = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())["project"]
    scripts: dict[str, str] = project["scripts"]
    assert len(scripts) == 1, f"{folder} should declare exactly one console script"
    return next(iter(scripts))


def test_the_folder_map_covers_every_service_folder() -> None:
    assert set(service_folders()) == set(COMPOSE_SERVICE_FOR_FOLDER)


@pytest.mark.parametrize("folder", sorted(COMPOSE_SERVICE_FOR_FOLDER))
def test_every_service_folder_has_a_compose_service_built_from_its_dockerfile(
    folder: str,
) -> None:
    service = services()[COMPOSE_SERVICE_FOR_FOLDER[folder]]

    assert service["build"] == {"context": ".", "dockerfile": f"{folder}/Dockerfile"}


def test_every_build_context_and_dockerfile_exists() -> None:
    for name, service in services().items():
        if "build" not in service:
            continue
        context = ROOT / service["build"]["context"]
        assert context.is_dir(), f"{name}: build context {context} is missing"
        dockerfile = context / service["build"].get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), f"{name}: {dockerfile} is missing"


def test_every_service_is_either_built_here_or_a_known_image() -> None:
    for name, service in services().items():
        assert ("build" in service) != (name in INFRASTRUCTURE), name
    assert services()["postgres"]["image"] == "postgres:16"
    assert services()["redis"]["image"] == "redis:7"


def test_every_dependency_exists_and_is_awaited_healthy() -> None:
    names = set(services())
    for name, service in services().items():
        for target, condition in depends_on(service).items():
            assert target in names, f"{name} depends on unknown service {target}"
            assert condition.get("condition") == "service_healthy", f"{name} -> {target}"


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, service in services().items():
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable", False), name
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name


def test_every_built_service_restarts_and_reads_an_optional_env_file() -> None:
    for name, service in services().items():
        assert service.get("restart") == "unless-stopped", name
        if "build" in service:
            assert {"path": ".env", "required": False} in service["env_file"], name


def test_postgres_keeps_its_data_in_a_named_volume() -> None:
    mounts = services()["postgres"]["volumes"]
    volume = next(m.split(":")[0] for m in mounts if m.endswith(":/var/lib/postgresql/data"))

    assert volume in compose()["volumes"]


def test_the_gateway_publishes_8000_and_nothing_else_is_published() -> None:
    published = {name: svc["ports"] for name, svc in services().items() if "ports" in svc}

    assert list(published) == ["gateway"]
    assert [with_defaults(port) for port in published["gateway"]] == ["8000:8000"]


def test_only_the_ledger_touches_postgres() -> None:
    for name, service in services().items():
        url = environment(service).get("IRONCLAW_DATABASE_URL")
        if name in LEDGER_SERVICES:
            assert url is not None, name
            assert url.startswith("postgresql+psycopg://"), name
            assert "@postgres:5432/" in url, name
        else:
            assert url is None, f"{name} must not get the database URL"


def test_ironclaw_services_share_broker_ledger_home_and_token() -> None:
    for name, service in services().items():
        if name in INFRASTRUCTURE:
            continue
        env = environment(service)
        assert env["IRONCLAW_BROKER_URL"] == "redis://redis:6379/0", name
        assert env["IRONCLAW_LEDGER_URL"] == "http://ledger:8001", name
        assert env["IRONCLAW_HOME"] == "/data", name
        assert env["IRONCLAW_HTTP_HOST"] == "0.0.0.0", name
        assert with_defaults(env["IRONCLAW_INTERNAL_TOKEN"]), name


def test_vault_worker_and_integration_share_the_theaters_volume() -> None:
    assert "theaters" in compose()["volumes"]
    for name, service in services().items():
        mounted = "theaters:/data" in service.get("volumes", [])
        assert mounted == (name in THEATER_SERVICES), name


def test_the_ledger_migrates_before_it_serves() -> None:
    command = " ".join(services()["ledger"]["command"])

    assert re.search(r"ironclaw-ledger migrate && (exec )?ironclaw-ledger serve", command)
    assert services()["ledger-relay"]["command"] == ["ironclaw-ledger", "relay"]


def test_each_compose_command_runs_its_own_services_cli() -> None:
    for folder, name in COMPOSE_SERVICE_FOR_FOLDER.items():
        command = services()[name].get("command")
        if command is not None:
            assert cli_script(folder) in " ".join(command), name


@pytest.mark.parametrize("folder", sorted(COMPOSE_SERVICE_FOR_FOLDER))
def test_each_dockerfile_installs_contracts_and_its_service_and_runs_its_cli(folder: str) -> None:
    dockerfile = (ROOT / folder / "Dockerfile").read_text()
    instructions = re.findall(r"^([A-Z]+)\s+(.*)$", dockerfile.replace("\\\n", " "), re.MULTILINE)

    assert instructions[0][0] in {"FROM", "ARG"}
    assert any(kind == "FROM" and "python:3.11-slim" in args for kind, args in instructions)
    copies = [args for kind, args in instructions if kind == "COPY"]
    assert any(args.startswith("contracts/ ") for args in copies)
    assert any(args.startswith(f"{folder}/ ") for args in copies)
    installs = [args for kind, args in instructions if kind == "RUN" and "uv pip install" in args]
    assert any("/app/contracts" in args and f"/app/{folder}" in args for args in installs)
    users = [args for kind, args in instructions if kind == "USER"]
    assert users, "the image must drop root"
    assert users[-1] not in {"root", "0"}
    assert any(kind == "HEALTHCHECK" and "/health" in args for kind, args in instructions)
    command = next(args for kind, args in reversed(instructions) if kind in {"CMD", "ENTRYPOINT"})
    assert json.loads(command)[0] == cli_script(folder)


def test_dockerignore_keeps_secrets_and_local_state_out_of_images() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()

    for entry in (".git", ".env", ".venv", ".ironclaw"):
        assert entry in ignored


def test_env_example_documents_the_model_settings() -> None:
    example = (ROOT / ".env.example").read_text()

    for variable in ("IRONCLAW_LLM_BASE_URL", "IRONCLAW_LLM_API_KEY", "IRONCLAW_LLM_MODEL"):
        assert variable in example
