"""The vault service: theater repositories, worktrees and artifacts."""
