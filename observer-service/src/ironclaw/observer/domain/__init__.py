"""The observer's plain logic: one patrol cycle per theater."""
