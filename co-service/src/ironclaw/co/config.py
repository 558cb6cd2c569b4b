"""Settings of the co service."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from ironclaw.contracts.kit.settings import LLMSettings


class Settings(LLMSettings):
    """What the co service reads from `IRONCLAW_*` (the model's endpoint among them)."""

    service_name: str = "co"
    http_port: int = Field(default=8010, ge=1, le=65535)
    garrison_dir: Path = Field(
        default=Path("garrison"),
        description="the garrison folder (playbooks/ inside); relative paths start at the cwd",
    )
    planner_timeout_s: float = Field(default=120.0, gt=0, description="one planning request")
    planner_max_retries: int = Field(
        default=1, ge=0, le=5, description="transport retries of one planning request"
    )

    @property
    def playbooks_dir(self) -> Path:
        """Where the playbook matcher reads its playbooks: `<garrison>/playbooks`."""
        return (self.garrison_dir / "playbooks").resolve()

    @property
    def model_configured(self) -> bool:
        """Whether planning may ask a model: both an endpoint and a model name are set."""
        return bool(self.llm_base_url and self.llm_model)
