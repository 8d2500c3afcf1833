"""Names and descriptions from files are shown as text, never as markup (issue 16)."""

from __future__ import annotations

from types import SimpleNamespace

from cragru_gui.results.compare_view import describe_run


def test_compare_header_escapes_dataset_name_and_request_description():
    result = SimpleNamespace(
        run_id="r1",
        started_at=0,
        config={"model": {"name": "bpr"}, "methods": [{"name": "<i>m</i>"}]},
        dataset={"name": "<img src=x onerror=1>"},
        request={"description": "<a href='file:///etc'>x</a>"},
        environment={"device": "cpu"},
    )
    text = describe_run(result)
    assert "<img" not in text and "<a " not in text and "<i>" not in text
    assert "&lt;img src=x onerror=1&gt;" in text
