"""regimens: oncology treatment protocols compiled into per-patient dose schedules."""

__version__ = "0.1.0"
