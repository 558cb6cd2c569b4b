"""`ironclaw-co`: run the co service's Celery worker, or check its playbooks."""

from __future__ import annotations

import typer

from ironclaw.co.app import QUEUE, create_app, create_celery
from ironclaw.co.config import Settings
from ironclaw.co.domain.drafts import PlanError
from ironclaw.co.domain.playbooks import load_playbooks
from ironclaw.contracts.kit.cli import Concurrency, consume_queue, service_cli


def create_cli() -> typer.Typer:
    """The co service's command line."""
    cli = service_cli("IronClaw co: METE planning of Runs into Orders.")

    @cli.command()
    def worker(concurrency: Concurrency = None) -> None:
        """Consume the `co` queue, answering /health on IRONCLAW_HTTP_PORT (8010)."""
        consume_queue(Settings(), create_celery, create_app, queue=QUEUE, concurrency=concurrency)

    @cli.command()
    def playbooks() -> None:
        """List the playbooks under IRONCLAW_GARRISON_DIR; exit 1 if any file is refused."""
        folder = Settings().playbooks_dir
        try:
            library = load_playbooks(folder)
        except PlanError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(code=1) from None
        for playbook in library.newest:
            marker = " (default)" if playbook.default else ""
            typer.echo(f"{playbook.ref}{marker}: {playbook.description}")
        for problem in library.problems:
            typer.echo(f"refused: {problem}", err=True)
        if library.problems:
            raise typer.Exit(code=1)

    return cli


def main() -> None:
    """Console entry point."""
    create_cli()()
