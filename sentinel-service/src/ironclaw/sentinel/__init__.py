"""The sentinel service: audits the duty officer's patrol, backlog and failover."""
