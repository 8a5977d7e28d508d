"""Writing a plan's next revision safely when two people record changes at the same time.

`plan record` reads the plan, computes the change, then writes. Two runs on the same plan would
otherwise both read revision N and both write N+1, and one change would vanish. The write takes
a lock (a lock file beside the plan), re-reads the plan under it and refuses when it is no longer
the revision the change was computed from, saying what changed meanwhile.
"""

from __future__ import annotations

from regimens.cli.output import PRIVATE, locked, write_atomic
from regimens.errors import PlanError


def write_revision(path: str, based_on, data: bytes) -> None:
    """Write `data` (the next revision of the plan `based_on`) to `path`, or refuse if the plan
    changed since `based_on` was read."""
    from regimens.cli.patient import read_plan

    with locked(path):
        current = read_plan(path)
        if current != based_on:
            raise PlanError(f"{path} changed while this change was being prepared ({_what_changed(based_on, current)});"
                            " nothing was written: run the command again to apply it to the current plan")
        write_atomic(path, data, force=True, mode=PRIVATE)


def _what_changed(old, new) -> str:
    if new.revision == old.revision:
        return f"revision {new.revision} was edited by hand"
    # the generated summary of each change, not the free-text reason someone typed
    notes = [f"revision {h.revision}: {h.note}" + (f" (by {h.by})" if h.by else "")
             for h in new.history if h.revision > old.revision]
    head = f"it is now revision {new.revision}, not {old.revision}"
    return head + (f"; {'; '.join(notes)}" if notes else "")
