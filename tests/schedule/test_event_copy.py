"""DoseEvent.with_ is dataclasses.replace, faster (schedule/timeline.py): same fields, same
equality and hash, still frozen, unknown names refused."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from regimens.schedule.timeline import DoseEvent


def test_with_is_replace_for_every_event_and_field(timeline):
    tl = timeline("nct02877303", arm="1")
    changes = [{}, {"uid": "x@regimens"}, {"status": "held", "status_reason": "counts"},
               {"patient_dose": 12.5, "patient_unit": "mg", "order": 3}, {"date": date(2030, 1, 1), "time": None}]
    for i, e in enumerate(tl.events):
        ch = changes[i % len(changes)]
        before = dict(vars(e))
        got, want = e.with_(**ch), dataclasses.replace(e, **ch)
        assert type(got) is DoseEvent
        assert got == want and hash(got) == hash(want)
        assert all(getattr(got, f.name) is getattr(want, f.name) for f in dataclasses.fields(DoseEvent))
        # a copy, not a view: the original keeps its values and the two share no field storage
        assert vars(got) is not vars(e) and set(vars(got)) == {f.name for f in dataclasses.fields(DoseEvent)}
        assert vars(e) == before
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.uid = "y"
    with pytest.raises(TypeError, match="no field 'nope'"):
        tl.events[0].with_(nope=1)
    with pytest.raises(TypeError, match="no field 'nope'"):
        tl.events[0].with_(status="held", nope=1)
