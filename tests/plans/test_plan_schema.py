"""The plain plan records (plans/records.py, plans/plan.py) and the pydantic schema that validates
plan and closures files (plans/schema.py) describe the same classes: same names, same fields in
the same order, same defaults, so `schema.to_plain` loses nothing and a plan is written as before."""

from __future__ import annotations

import pickle
from datetime import date, datetime

import pytest
from pydantic import BaseModel, ValidationError
from schema_pairs import assert_same_fields

from regimens.plans import plan as plain_plan
from regimens.plans import records, schema
from regimens.plans.closures import read_named

SCHEMA_CLASSES = sorted(name for name, obj in vars(schema).items()
                        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == schema.__name__
                        and not name.startswith("_"))
PLAIN_CLASSES = sorted({name for module in (records, plain_plan) for name, obj in vars(module).items()
                        if isinstance(obj, type) and issubclass(obj, records.PlanRecord)
                        and obj is not records.PlanRecord})


def test_the_same_classes():
    assert len(SCHEMA_CLASSES) == 14
    assert SCHEMA_CLASSES == PLAIN_CLASSES == sorted(schema.PLAIN)


@pytest.mark.parametrize("name", SCHEMA_CLASSES)
def test_the_same_fields_order_and_defaults(name):
    assert_same_fields(schema.PLAIN[name], getattr(schema, name))


def test_a_missing_field_or_default_would_fail():
    class FieldFewer(records.PlanRecord):
        rule: str
        name: str

    class OtherDefault(records.PlanRecord):
        rule: str
        name: str = "x"
        by: str

    assert OtherDefault.FIELDS == tuple(schema.PlanOverride.model_fields)  # only the default differs
    for plain in (FieldFewer, OtherDefault):
        with pytest.raises(AssertionError):
            assert_same_fields(plain, schema.PlanOverride)


FULL = {
    "format": "regimens-plan/1", "id": "0123456789abcdef", "start": "2027-01-04", "arm": "1",
    "protocol": {"id": "nct02877303", "version": "1.0", "content_hash": "a" * 64},
    "choices": {"x": "y"}, "actual_starts": {"intensive.c2": "2027-02-01"}, "omit": {"u@r": "why"},
    "measurements": {"height_cm": "5 ft 9 in", "weight_kg": 70, "measured_on": "2027-01-02"},
    "modifications": [{"drug": " vincristine ", "change": "75%", "reason": "neuropathy"}],
    "cap_overrides": [{"drug": "vincristine", "reason": "per physician"}],
    "history": [{"revision": 1, "note": "new plan"}], "revision": 2,
    "moves": [{"target": "intensive.c2:1", "to": "2027-02-03", "at": "09:30", "reason": "r", "by": "b"}],
    "ceased": [{"drug": "rituximab", "from": "2027-03-01", "why": "toxicity", "reason": "r", "by": "b"}],
    "administrations": [{"uid": "u@r", "at": "2027-01-04T10:00:00+01:00", "dose": 1.5, "unit": "mg", "by": "n"}],
    "prior_exposure": [{"drug": "doxorubicin", "amount": 120, "unit": "mg/m2", "source": "letter", "by": "p"}],
    "overrides": [{"rule": "lifetime-limit:doxorubicin", "name": "Dr A: ok", "by": "p"}],
}


def test_a_validated_plan_is_plain_and_keeps_every_value():
    closures = read_named("england-and-wales").model_dump()
    closures["periods"] = ({"start": date(2027, 12, 24), "end": date(2028, 1, 2), "name": "winter closure"},)
    validated = schema.Plan.model_validate({**FULL, "closures": closures})
    plan = schema.to_plain(validated)
    seen = set()

    def walk(v):
        assert not isinstance(v, BaseModel)
        if isinstance(v, records.PlanRecord):
            seen.add(type(v).__name__)
            for n in v.FIELDS:
                walk(getattr(v, n))
        elif isinstance(v, tuple | list):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)

    walk(plan)
    assert seen == set(SCHEMA_CLASSES)
    # the schema's own work is in the plain values: converted units, stripped text, the alias,
    # naive clinic time, dates parsed
    assert plan.measurements.height_cm == pytest.approx(175.26) and plan.measurements.height_given == "5 ft 9 in"
    assert plan.modifications[0].drug == "vincristine"
    assert plan.ceased[0].from_date == date(2027, 3, 1)
    assert plan.administrations[0].at == datetime(2027, 1, 4, 10, 0)
    assert plan.actual_starts == {"intensive.c2": date(2027, 2, 1)}
    # written by pydantic exactly as the validated model is, and read back equal
    assert plan.model_dump(mode="json", by_alias=True) == validated.model_dump(mode="json", by_alias=True)
    assert plan.model_dump_json(exclude={"revision", "history"}) == validated.model_dump_json(
        exclude={"revision", "history"})
    assert plain_plan.Plan.model_validate(plan.model_dump(by_alias=True)) == plan
    assert plain_plan.load_plan(plain_plan.dump_plan(plan).decode(), "p.yaml") == plan
    assert pickle.loads(pickle.dumps(plan)) == plan


def test_model_copy_copies_and_refuses_unknown_fields():
    plan = plain_plan.Plan.model_validate(FULL)
    moved = plan.model_copy(update={"revision": 3})
    assert (moved.revision, plan.revision) == (3, 2) and moved.moves is plan.moves
    assert moved != plan and moved.model_copy(update={"revision": 2}) == plan
    with pytest.raises(TypeError, match="no field 'revison'"):
        plan.model_copy(update={"revison": 3})
    with pytest.raises(AttributeError, match="frozen"):
        plan.revision = 4  # type: ignore[misc]


@pytest.mark.parametrize(("name", "data", "where"), [
    ("PlanMove", {"target": "x", "to": "2027-01-01", "at": "25:00", "reason": "r", "by": "b"}, "at"),
    ("PlanCease", {"from": "2027-01-01", "why": "bored", "reason": "r", "by": "b"}, "why"),
    ("PlanAdministration", {"uid": "u", "dose": -1, "by": "n"}, "dose"),
    ("PriorExposure", {"drug": "d", "amount": 1, "unit": "g", "source": "s", "by": "b"}, "unit"),
    ("PlanOverride", {"rule": "r", "name": " ", "by": "b"}, "name"),
    ("PlanChange", {"revision": 0, "note": "n"}, "revision"),
    ("PlanProtocol", {"id": "x", "version": "1", "content_hash": "abc"}, "content_hash"),
])
def test_model_validate_refuses_what_the_file_format_refuses(name, data, where):
    with pytest.raises(ValidationError) as exc:
        schema.PLAIN[name].model_validate(data)
    assert exc.value.errors()[0]["loc"][0] == where


def test_a_plan_is_checked_by_the_file_rules_before_it_is_written():
    # plain records are not validated when made (cli/patient.py and the clinic form build
    # modifications directly); dump_plan is where a plan becomes a file, and it must never write
    # one that load_plan would refuse
    from regimens.errors import PlanError

    plan = schema.to_plain(schema.Plan.model_validate(FULL))
    bad = plan.model_copy(update={"modifications": (
        plain_plan.PlanModification(drug="vincristine", change="75%", reason=""),)})
    with pytest.raises(PlanError) as err:
        plain_plan.dump_plan(bad)
    assert str(err.value).startswith("plan not written: modifications.0.reason:")
    assert plain_plan.load_plan(plain_plan.dump_plan(plan).decode(), "p.yaml") == plan
