"""The integration service: gates accepted attempts and promotes them to mainline."""
