"""The plain protocol model (model.py) and the pydantic schema that validates files (schema.py)
describe the same classes: same names, same fields in the same order, same defaults, so that
`schema.to_model` loses nothing and a reader sees every field a file can set."""

from __future__ import annotations

import pickle

import pytest
import yaml
from pydantic import BaseModel
from schema_pairs import assert_same_fields

from regimens.protocol import model, schema
from regimens.protocol.catalog import Catalog

SCHEMA_CLASSES = sorted(name for name, obj in vars(schema).items()
                        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj is not schema.Frozen
                        and obj.__module__ == schema.__name__)
MODEL_CLASSES = sorted(name for name, obj in vars(model).items()
                       if isinstance(obj, type) and issubclass(obj, model.Record) and obj is not model.Record)


def test_the_same_classes():
    assert len(SCHEMA_CLASSES) == 15
    assert SCHEMA_CLASSES == MODEL_CLASSES


@pytest.mark.parametrize("name", SCHEMA_CLASSES)
def test_the_same_fields_order_and_defaults(name):
    assert_same_fields(getattr(model, name), getattr(schema, name))


def test_a_missing_field_or_default_would_fail():
    # the comparisons above can fail: a record with a field fewer, or another default
    class FieldFewer(model.Record):
        nct: str | None = None
        group: str | None = None

    class OtherDefault(model.Record):
        nct: str | None = None
        group: str | None = "x"
        other: tuple[str, ...] = ()

    assert OtherDefault.FIELDS == tuple(schema.Registry.model_fields)  # only the default differs
    for plain in (FieldFewer, OtherDefault):
        with pytest.raises(AssertionError):
            assert_same_fields(plain, schema.Registry)


def _as_dict(value):
    if isinstance(value, model.Record):
        return {n: _as_dict(getattr(value, n)) for n in value.FIELDS}
    if isinstance(value, tuple):
        return tuple(_as_dict(v) for v in value)
    if isinstance(value, dict):
        return {k: _as_dict(v) for k, v in value.items()}
    assert not isinstance(value, BaseModel)
    return value


def _classes(value, seen: set) -> None:
    if isinstance(value, model.Record):
        seen.add(type(value))
        for n in value.FIELDS:
            _classes(getattr(value, n), seen)
    elif isinstance(value, (tuple, list)):
        for v in value:
            _classes(v, seen)
    elif isinstance(value, dict):
        for v in value.values():
            _classes(v, seen)
    else:
        assert not isinstance(value, BaseModel)


@pytest.mark.parametrize("pid", Catalog().ids())
def test_a_loaded_protocol_is_plain_and_keeps_every_validated_value(pid):
    pf = Catalog().load(pid)
    seen: set = set()
    _classes(pf.protocol, seen)
    assert seen <= {getattr(model, n) for n in MODEL_CLASSES}
    assert model.Protocol in seen and model.Item in seen
    # every value the schema validated is in the plain form, field by field, tuples as tuples
    with open(pf.path, encoding="utf-8") as fh:
        validated = schema.Protocol.model_validate(yaml.safe_load(fh))
    assert validated.model_dump() == _as_dict(pf.protocol)
    back = pickle.loads(pickle.dumps(pf.protocol, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == pf.protocol and _as_dict(back) == _as_dict(pf.protocol)


def test_records_are_frozen_keyword_only_and_compared_by_value():
    dose = model.Dose(value=9.0, unit="mcg/day")
    assert dose == model.Dose(unit="mcg/day", value=9.0) and hash(dose) == hash(model.Dose(value=9.0, unit="mcg/day"))
    assert dose != model.Dose(value=28.0, unit="mcg/day")
    assert dose.bands == () and dose.not_public is False
    with pytest.raises(AttributeError, match="frozen"):
        dose.value = 28.0  # type: ignore[misc]
    with pytest.raises(AttributeError, match="frozen"):
        del dose.value
    with pytest.raises(TypeError, match="missing the field 'source'"):
        model.Band(weight_kg_lt=45.0)
    with pytest.raises(TypeError, match="no field 'dose_value'"):
        model.Dose(dose_value=9.0)
    with pytest.raises(TypeError):
        model.Dose(9.0, "mcg/day")  # type: ignore[misc]
    a, b = model.Choice(value="a", label="A"), model.Choice(value="b", label="B")
    assert a.implies == {} and a.implies is not b.implies  # a default mapping is each record's own
    assert repr(dose).startswith("Dose(value=9.0, unit='mcg/day', not_public=False")
    assert model.Registry() != model.Source(key="k", kind="seed", cite="c")
