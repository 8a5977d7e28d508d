"""exporters/json_indent.py writes exactly the text of `json.dumps(value, indent=N,
ensure_ascii=False)`: checked against the standard library itself (the independent side) on
every shipped protocol's timeline and on generated JSON values."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regimens.exporters import json_indent, tabular
from regimens.batch import BatchContext, read_patients, render_patient
from regimens.protocol.catalog import Catalog
from regimens.schedule.compiler import compile as compile_timeline
from regimens.schedule.request import ScheduleRequest

SHIPPED = Catalog().ids()


def std(value, indent=2):
    return json.dumps(value, indent=indent, ensure_ascii=False)


scalars = (st.none() | st.booleans() | st.integers(min_value=-(10**20), max_value=10**20)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12))
values = st.recursive(
    scalars,
    lambda inner: (st.lists(inner, max_size=5) | st.tuples(inner, inner)
                   | st.dictionaries(st.text(max_size=6), inner, max_size=5)),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(values, st.sampled_from([0, 1, 2, 4]))
def test_same_text_as_json_dumps(value, indent):
    assert json_indent.dumps(value, indent) == std(value, indent)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4),
                       values, max_size=4))
def test_keys_that_are_not_text_are_converted_as_json_does(value):
    assert json_indent.dumps({"outer": [value]}) == std({"outer": [value]})


@pytest.mark.parametrize("value", [
    {}, [], (), {"a": []}, [[]], [{}], {"a": {"b": {}}, "c": 1}, [{"a": 1}, {"b": 2}],
    "text with \u2028 and \"quotes\" and é", 1, -0.0, math.inf, math.nan,
    {"working": {"formula": "1.5 mg/m² × 1.9 m²"}, "dose": 2.85, "events": [[1, [2, [3, {}]]]]},
])
def test_edge_values(value):
    assert json_indent.dumps(value) == std(value)


def test_other_types_raise_what_json_raises():
    for value in ({"when": date(2027, 1, 4)}, [1, {"x": [object()]}], {1.5: {2}}, {(1, 2): [1]}, {"a": {(1,): 1}}):
        with pytest.raises(TypeError) as ours:
            json_indent.dumps(value)
        with pytest.raises(TypeError) as theirs:
            std(value)
        assert str(ours.value) == str(theirs.value)


def test_a_subclass_of_str_or_int_is_written_as_json_writes_it():
    from enum import IntEnum

    class Level(IntEnum):
        HIGH = 3

    class Name(str):
        pass

    value = {"level": Level.HIGH, "name": Name("x"), "list": [Level.HIGH, Name("y")], "n": {"deep": Name("z")}}
    assert json_indent.dumps(value) == std(value)


def _document(tl):
    return {"format": tabular.JSON_FORMAT, "timeline": tabular.header(tl), "events": [e.to_dict() for e in tl.events]}


@pytest.mark.parametrize("pid", SHIPPED)
def test_every_shipped_timeline_is_the_standard_librarys_text(pid):
    pf = Catalog().load(pid)
    for arm in pf.protocol.arms:
        choices = {n: d.choices[0].value for n, d in pf.protocol.decisions.items() if d.default is None}
        tl = compile_timeline(pf, ScheduleRequest(start=date(2027, 1, 4), arm=arm.label, choices=choices))
        data = _document(tl)
        assert json_indent.dumps(data) == std(data)
        # to_json cleans the notation of the text afterwards, as it did after json.dumps
        assert tabular.to_json(tl) == (tabular.ismp_clean(std(data)) + "\n").encode("utf-8")


def test_a_dosed_batch_patient_is_the_standard_librarys_text():
    # doses calculated from measurements add the nested `working` of every dose
    rows = read_patients("id,protocol,arm,start,choices,height,weight,age\n"
                         "p1,nct02877303,1,2027-01-04,,170,70,40\n")
    ctx = BatchContext(protocols_dir=None, default_outputs=("json",),
                       generated_at=datetime(2027, 1, 1, tzinfo=UTC), tz="America/Chicago")
    [(_, text)] = render_patient(rows[0], ctx)
    data = json.loads(text)
    assert any(e["working"] for e in data["events"])
    assert text.decode("utf-8") == tabular.ismp_clean(std(data)) + "\n"
