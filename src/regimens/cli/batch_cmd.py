"""Placeholder: the `batch` command lives here (registered in app.py)."""
