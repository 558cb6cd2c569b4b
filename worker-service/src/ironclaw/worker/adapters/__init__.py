"""The worker's connections to the outside: vault, engines, processes."""
