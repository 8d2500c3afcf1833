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


MAX_PEOPLE = 12
"""Named people listed on page one; the rest are counted there and listed in the HTML report."""
HEADING = "The people named by the request"


def _shown(lines: list[str]) -> list[str]:
    more = len(lines) - MAX_PEOPLE
    tail = [f"… and {more:,} more named people, each on a line in the HTML report."] if more > 0 else []
    return [f"• {line}" for line in lines[:MAX_PEOPLE]] + tail


def people_pdf(doc, lines: list[str]) -> None:
    """Page one's section (``doc`` is the report's ReportDoc); nothing when nobody is named."""
    if lines:
        doc.heading(HEADING, 12)
        for line in _shown(lines):
            doc.para(line)
