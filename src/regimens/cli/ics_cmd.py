"""Placeholder: the `ics` command lives here (registered in app.py)."""
