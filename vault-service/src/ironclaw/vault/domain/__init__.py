"""The vault's logic: theaters, worktrees and artifacts, without any web framework."""
