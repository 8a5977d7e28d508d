"""Exporters: each takes a Timeline and returns bytes. None recomputes schedule logic."""
