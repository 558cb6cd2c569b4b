"""The co service: METE planning of Runs into Orders."""
