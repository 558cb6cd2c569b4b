"""What the vault drives: git repositories on disk and cross-process locks."""
