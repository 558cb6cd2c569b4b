"""The integration service's logic: which order may be promoted, and how it is promoted."""
