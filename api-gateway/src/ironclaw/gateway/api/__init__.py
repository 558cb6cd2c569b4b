"""The public HTTP routes: thin, they parse, call the domain and answer."""
