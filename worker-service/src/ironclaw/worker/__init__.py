"""The worker service: executes Order attempts with disposable agent units."""
