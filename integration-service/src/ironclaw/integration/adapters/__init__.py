"""What the integration service talks to: the theater's git repository, gate processes, vault."""
