"""Placeholder: the `plan` command lives here (registered in app.py)."""
