"""IronClaw's wire format, shared by every service; the only package services import."""
