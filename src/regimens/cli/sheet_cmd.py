"""Placeholder: the `sheet` command lives here (registered in app.py)."""
