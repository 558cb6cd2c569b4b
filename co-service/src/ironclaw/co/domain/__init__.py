"""The co service's logic: planning Runs into Orders and settling them, with no framework."""
