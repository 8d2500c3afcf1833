"""The per-person lines of page one, where the request names people (``users:ids:…``): one line
per named person from :func:`core.reporting.people_tests.person_lines` when that module is
installed; nothing otherwise (a request drawn at random names nobody)."""

from __future__ import annotations


def named_people_lines(result, facts) -> list[str]:
    if facts is None or facts.subjects is None or facts.subjects.kind != "users":
        return []
    if result.request.get("selector") != "ids":
        return []
    try:
        from core.reporting.people_tests import person_lines
    except ImportError:
        return []
    return [str(line) for line in person_lines(result)]
