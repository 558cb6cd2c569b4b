"""Typed HTTP clients for the internal APIs."""
