"""The breakdown's page in the report (HTML and PDF) and its table in ``cragru-run --by``."""

from __future__ import annotations

from dataclasses import replace

from core.reporting.breakdown_page import attribute_rows, breakdown_html
from core.reporting.breakdown_text import breakdown_report
from tests.test_breakdown import planted_breakdown


def _with_breakdown(result):
    return replace(result, breakdown=planted_breakdown("far", twin="close"))


def test_html_section_names_the_group_and_tabulates_every_attribute(hand_built_result):
    from core.reporting.html_report import html_report

    result = _with_breakdown(hand_built_result)
    section = breakdown_html(result)
    assert "Who was affected, by user attribute" in section
    assert "Far method: Users with group A" in section and "Close method: no group singled out" in section
    assert section.count("<td>fairness gap</td>") == 3  # activity, group, age
    assert section in html_report(result)
    assert breakdown_html(hand_built_result) == ""  # runs without a breakdown: nothing


def test_rows_put_the_planted_change_in_its_group(hand_built_result):
    rows = attribute_rows(_with_breakdown(hand_built_result), "group")
    header, a, b, gap = rows
    far = header.index("Far method")
    assert a[0] == "A" and a[far].startswith("-0.1") and b[far] == "+0.000 [+0.000, +0.000]"
    assert gap[0] == "fairness gap" and gap[far].startswith("+0.1")


def test_pdf_gets_the_page(hand_built_result, tmp_path):
    from core.reporting.pdf_report import write_pdf

    result = replace(
        hand_built_result, dataset={"name": "hand-built", "n_users": 10, "n_items": 20, "n_interactions": 99}
    )
    plain = write_pdf(result, tmp_path / "plain.pdf")
    with_page = write_pdf(_with_breakdown(result), tmp_path / "with.pdf")
    assert with_page.stat().st_size > plain.stat().st_size


def test_cli_table(hand_built_result):
    text = breakdown_report(_with_breakdown(hand_built_result), "group,age,shoe size")
    assert "group — NDCG@10 against retraining" in text and "age band" in text
    assert "shoe size: not in this run's data" in text
    assert "far: group: users with group A" in text and "beyond the tolerance" in text
    assert breakdown_report(hand_built_result, "age") == "breakdown by user attribute: not measured in this run"
    assert breakdown_report(hand_built_result, None) == ""


def test_the_affected_verdict_names_the_group_hurt_alone(hand_built_result):
    """*Who else was affected?* names the group a method hurt beyond the tolerance while the
    rest of its attribute held (the sentence short, the evidence with the interval)."""
    from core.reporting.affected import affected_verdict

    plain = affected_verdict(hand_built_result, "far")
    found = affected_verdict(_with_breakdown(hand_built_result), "far")
    assert found.light == plain.light and found.sentence.startswith(plain.sentence)
    assert found.sentence.endswith(
        "By group: Users with group A lost NDCG@10 against retraining; other group groups did not."
    )
    assert found.evidence[:-1] == plain.evidence
    assert found.evidence[-1].startswith("Users with group A (-0.") and "95 % interval" in found.evidence[-1]
    assert affected_verdict(_with_breakdown(hand_built_result), "close") == affected_verdict(hand_built_result, "close")


def test_cli_by_with_several_seeds_prints_each_seeds_table(hand_built_result, capsys):
    """``cragru-run --seeds 2 --by group`` prints each seed's breakdown (it printed none)."""
    from argparse import Namespace

    from core.cli import _write_seeds

    results = [
        replace(_with_breakdown(hand_built_result), run_id=f"r{seed}", config={"split": {"seed": seed}})
        for seed in (4, 5)
    ]
    _write_seeds(results, Namespace(by="group", out=None, report=None, receipt=None))
    text = capsys.readouterr().out
    assert "split seed 4:" in text and "split seed 5:" in text
    assert text.count("group — NDCG@10 against retraining") == 2
    assert "far: group: users with group A" in text
