"""Shared check for the plain-record / pydantic-schema pairs (protocol/model.py with
protocol/schema.py, plans/records.py and plans/plan.py with plans/schema.py): the plain class has
the schema model's fields in the same order and the same defaults, of the same types."""

from __future__ import annotations

from pydantic_core import PydanticUndefined


def schema_defaults(model_cls) -> dict:
    out = {}
    for field, info in model_cls.model_fields.items():
        if info.default_factory is not None:
            out[field] = info.default_factory()
        elif info.default is not PydanticUndefined:
            out[field] = info.default
    return out


def assert_same_fields(plain_cls, model_cls) -> None:
    assert plain_cls.FIELDS == tuple(model_cls.model_fields)
    want = schema_defaults(model_cls)
    assert plain_cls.DEFAULTS == want
    assert {k: type(v) for k, v in plain_cls.DEFAULTS.items()} == {k: type(v) for k, v in want.items()}
