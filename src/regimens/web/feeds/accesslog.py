"""The feed access log, written in batches: a poll must not wait for a database write lock
(SQLite takes one per writing transaction), and thousands of phones poll every hour. Entries
wait in memory for at most FLUSH_SECONDS (or until BATCH of them) and are then written with one
INSERT; `flush()` writes them now (tests, shutdown). Old entries are pruned after KEEP_DAYS.

An entry is the feed's id, the time, the client address and app, and the HTTP status: never the
token, which is the credential."""

from __future__ import annotations

import atexit
import contextlib
import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from regimens.web.feeds.models import FeedAccess

BATCH = 500

_lock = threading.Lock()
_pending: list[FeedAccess] = []
_timer: threading.Timer | None = None
_last_prune = None


def _flush_seconds() -> float:
    return float(getattr(settings, "REGIMENS_FEED_LOG_FLUSH_SECONDS", 2.0))


def record(feed_id, address: str | None, agent: str, status: int) -> None:
    entry = FeedAccess(feed_id=feed_id, at=timezone.now(), address=address or None, agent=agent[:120],
                       status=status)
    global _timer
    with _lock:
        _pending.append(entry)
        now = _flush_seconds() <= 0 or len(_pending) >= BATCH
        if not now and _timer is None:
            _timer = threading.Timer(_flush_seconds(), _flush_from_timer)
            _timer.daemon = True
            _timer.start()
    if now:
        flush()


def _flush_from_timer() -> None:
    global _timer
    with _lock:
        _timer = None
    try:
        flush()
    finally:
        close_old_connections()  # this thread's connection, like a request's


def flush() -> int:
    """Write what is pending now; returns how many entries were written."""
    global _last_prune
    with _lock:
        batch = _pending[:]
        _pending.clear()
    if batch:
        FeedAccess.objects.bulk_create(batch, batch_size=BATCH)
    now = timezone.now()
    if _last_prune is None or now - _last_prune > timedelta(hours=1):
        _last_prune = now
        days = int(getattr(settings, "REGIMENS_FEED_LOG_DAYS", 90))
        FeedAccess.objects.filter(at__lt=now - timedelta(days=days)).delete()
    return len(batch)


@atexit.register
def _at_exit() -> None:
    # the process is ending: a log batch that cannot be written must not hide why it ends
    with contextlib.suppress(Exception):
        if _pending:
            flush()
