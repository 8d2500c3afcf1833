"""The per-person lines of page one, where the request names people (``users:ids:…``): one line
per named person from :func:`core.reporting.people_tests.person_lines` when that module is
installed, or one line saying why there is no per-person test (e.g. too few reference models);
nothing otherwise (a request drawn at random names nobody)."""

from __future__ import annotations


def named_people_lines(result, facts) -> list[str]:
    if facts is None or facts.subjects is None or facts.subjects.kind != "users":
        return []
    if result.request.get("selector") != "ids":
        return []
    try:
        from core.reporting.people_tests import named_request_lines, person_lines
    except ImportError:
        return []
    lines = [str(line) for line in person_lines(result)]
    if lines:
        return lines
    why = [line.strip() for line in named_request_lines(result) if line.strip().startswith("not measured")]
    return [f"per-person test {why[0]}"] if why else []  # said, never a silently missing section
