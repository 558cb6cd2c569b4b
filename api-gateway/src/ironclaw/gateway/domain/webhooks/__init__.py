"""Webhooks in: verifying, reading and matching deliveries from GitHub, Slack and Jira."""
