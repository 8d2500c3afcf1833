"""One event family, one dispatcher: every engine event is of the family, routed by type,
and anything else reaching a dispatcher is an error (here) instead of being dropped."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from core.events import EVENT_TYPES, CellFinished, Dispatcher, Event, SeedStarted, StreamStep, UnknownEvent


def test_every_event_is_of_the_family():
    assert all(issubclass(kind, Event) and dataclasses.is_dataclass(kind) for kind in EVENT_TYPES)
    assert {SeedStarted, CellFinished, StreamStep} <= set(EVENT_TYPES)


def test_events_route_by_type_and_unhandled_family_members_pass():
    seen = []
    route = Dispatcher({SeedStarted: seen.append}, strict=True)
    route(SeedStarted(1, 2, 7))
    route(CellFinished(1, 1, "c", "done", 0.1))  # of the family, not wanted here: passed over
    assert seen == [SeedStarted(1, 2, 7)]


def test_an_object_outside_the_family_is_an_error_in_strict_mode():
    with pytest.raises(UnknownEvent, match="tuple"):
        Dispatcher({}, strict=True)(("not", "an event"))


def test_outside_strict_mode_it_is_one_warning_per_type(caplog):
    route = Dispatcher({}, strict=False)
    with caplog.at_level(logging.WARNING, logger="cragru"):
        route(object())
        route(object())
    assert sum("not an engine event" in r.getMessage() for r in caplog.records) == 1


def test_a_handler_for_a_type_outside_the_family_is_refused():
    class Stray:
        pass

    with pytest.raises(UnknownEvent, match="Stray"):
        Dispatcher({Stray: print})


def test_the_test_suite_runs_strict():
    assert Dispatcher({}).strict
