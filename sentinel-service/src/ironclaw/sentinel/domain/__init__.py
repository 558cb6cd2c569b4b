"""The sentinel's plain logic: audit the duty officer's heartbeats, alert, fail over."""
