"""The per-subject record types (``model.case.CaseRecord``, msgspec Structs): frozen, strict through pydantic's twin, and
what ``set_fields`` relies on."""

from __future__ import annotations

import pickle

import msgspec

import pytest
from pydantic import ValidationError

from model.case import (EMPTY_FACTS, FACT_NAMES, FALSY_SETTABLE, Facts, Subject, Votes, dump, validate_as)
from model.levels import Level


def test_records_have_no_instance_dict_and_are_frozen():
    s = validate_as(Subject, {"id": "A", "name": "An", "kind": "member", "votes": {"XS": 3}})
    assert not hasattr(s, "__dict__") and not hasattr(s.votes, "__dict__")
    with pytest.raises(AttributeError):
        s.id = "B"
    assert s.facts is EMPTY_FACTS  # a subject without facts shares the one empty instance
    assert pickle.loads(pickle.dumps(s)) == s and hash(s) == hash(pickle.loads(pickle.dumps(s)))


def test_records_are_strict_and_refuse_unknown_fields():
    for bad in ({"id": "A", "name": "An", "kind": "member", "colour": 1},
                {"id": "A", "name": "An", "kind": "member", "votes": {"XS": "3"}},
                {"id": "A", "name": "An", "kind": "member", "votes": [3]},
                {"id": "A", "kind": "member"}):
        with pytest.raises(ValidationError):
            validate_as(Subject, bad)


def test_dump_leaves_defaults_out_and_reads_back():
    raw = {"id": "A", "name": "An", "kind": "member", "votes": {"XS": 3}, "facts": {"civil_servant_level": "K"}}
    s = validate_as(Subject, raw)
    assert dump(s, mode="json", exclude_defaults=True) == raw
    assert validate_as(Subject, dump(s, mode="json", exclude_defaults=True)) == s
    assert dump(validate_as(Votes, {"T": 2}))["T"] == 2


def test_only_the_listed_facts_can_be_set_with_a_false_looking_value():
    """``Facts.set_fields`` picks the truthy values in C and looks one by one only when one of FALSY_SETTABLE
    holds a false-looking value: every other fact must be a boolean (False = unset) or a record (truthy)."""
    for f in msgspec.structs.fields(Facts):
        if f.name in FALSY_SETTABLE:
            continue
        assert "bool" in str(f.type) or f.name in ("criteria", "tasks", "discipline"), f.name
    cases = {"civil_servant_level": "K", "sick_leave_months": 0, "violation_org": ""}
    assert set(cases) == set(FALSY_SETTABLE)
    for name, value in cases.items():
        assert validate_as(Facts, {name: value}).set_fields() == [name]
    many = validate_as(Facts, {"civil_servant_level": "K", "disciplined": True, "sick_leave_months": 0,
                               "criteria": {}, "shortcomings_remedied": False})
    assert many.set_fields() == ["civil_servant_level", "disciplined", "sick_leave_months", "criteria"]
    assert validate_as(Facts, {"civil_servant_level": "T"}).set_fields() == ["civil_servant_level"]
    assert validate_as(Facts, {"civil_servant_level": "T"}).civil_servant_level is Level.T
    assert EMPTY_FACTS.set_fields() == [] and len(FACT_NAMES) == len(msgspec.structs.fields(Facts))


def test_pydantic_validates_records_through_a_twin_with_the_same_fields():
    """pydantic reads data into a record through a pydantic dataclass built from the record's own fields: the same
    names, order and defaults; what it builds is the record, with the shared empty facts."""
    import dataclasses

    from model.case import Criteria, Discipline, CaseRecord, Tasks, _twin

    for cls in (Subject, Facts, Votes, Tasks, Criteria, Discipline):
        assert issubclass(cls, CaseRecord)
        twin = [(f.name, f.default) for f in dataclasses.fields(_twin(cls))]
        assert twin == [(f.name, dataclasses.MISSING if f.required else f.default)
                        for f in msgspec.structs.fields(cls)], cls
    s = validate_as(Subject, {"id": "A", "name": "An", "kind": "member"})
    assert type(s) is Subject and s.facts is EMPTY_FACTS and validate_as(Subject, s) is s
