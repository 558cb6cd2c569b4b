"""The small kit every service is built from.

settings, logging, metrics, health, errors, auth; celery (the fleet's Celery settings), runner
(health server, Celery worker, patrol loop), cli (each service's command line) and lease (the
fenced single-active leases of the patrols).
"""
