"""The observer service: patrols theaters for stalled attempts and orphaned worktrees."""
