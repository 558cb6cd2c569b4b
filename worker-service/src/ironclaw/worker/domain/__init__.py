"""The worker's logic: attempts, engines, the tool policy; no Celery, no HTTP framework."""
