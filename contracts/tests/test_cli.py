"""The fleet's command-line pieces: each service's Typer app and the `--concurrency` option."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from ironclaw.contracts.kit.cli import Concurrency, service_cli


def probe_cli() -> typer.Typer:
    cli = service_cli("IronClaw probe: answers for the kit's tests.")

    @cli.command()
    def worker(concurrency: Concurrency = None) -> None:
        """Say the concurrency asked for."""
        typer.echo(f"concurrency={concurrency}")

    return cli


def test_help_shows_the_description_and_the_commands() -> None:
    result = CliRunner().invoke(probe_cli(), ["--help"])

    assert result.exit_code == 0
    assert "IronClaw probe: answers for the kit's tests." in result.output
    assert "worker" in result.output


def test_called_bare_it_shows_help_instead_of_running_anything() -> None:
    result = CliRunner().invoke(probe_cli(), [])

    assert "Usage:" in result.output
    assert "concurrency=" not in result.output


def test_a_lone_command_stays_a_subcommand() -> None:
    result = CliRunner().invoke(probe_cli(), ["worker"])

    assert result.exit_code == 0
    assert result.output.strip() == "concurrency=None"


def test_concurrency_is_passed_through_and_must_be_at_least_one() -> None:
    accepted = CliRunner().invoke(probe_cli(), ["worker", "--concurrency=2"])
    refused = CliRunner().invoke(probe_cli(), ["worker", "--concurrency=0"])

    assert accepted.output.strip() == "concurrency=2"
    assert refused.exit_code == 2
