"""The breakdown's page in the report (HTML and PDF) and its table in ``cragru-run --by``."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np

from core.reporting.breakdown_page import attribute_rows, breakdown_html
from core.reporting.breakdown_text import METRIC, breakdown_report, who_else_sentence
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


def test_cli_by_metric_splits_another_measure_and_refuses_an_unknown_one(hand_built_result, capsys):
    """``--by-metric hit@10`` tabulates that measure (the planted group loses it too); a name the
    breakdown does not hold, or the flag without ``--by``, is refused before any work (exit 2)."""
    from core.cli import main

    text = breakdown_report(_with_breakdown(hand_built_result), "group", "hit@10")
    assert "group — Hit@10 against retraining" in text and "NDCG@10" not in text
    assert "far: group: users with group A" in text and "beyond the tolerance" in text
    for argv, said in (
        (["--by", "age", "--by-metric", "ndcg@11"], "--by-metric 'ndcg@11': not a utility measure; one of"),
        (["--by-metric", "hit@10"], "--by-metric needs --by"),
    ):
        assert main(["--data", "demo", "--methods", "retrain", *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("cragru-run: error: " + said) and "\n" not in err, err


def test_cli_by_with_several_seeds_prints_each_seeds_table(hand_built_result, capsys):
    """``cragru-run --seeds 2 --by group`` prints each seed's breakdown (it printed none)."""
    from argparse import Namespace

    from core.cli import _write_seeds

    results = [
        replace(_with_breakdown(hand_built_result), run_id=f"r{seed}", config={"split": {"seed": seed}})
        for seed in (4, 5)
    ]
    _write_seeds(results, Namespace(by="group", by_metric=METRIC, out=None, report=None, receipt=None))
    text = capsys.readouterr().out
    assert "split seed 4:" in text and "split seed 5:" in text
    assert text.count("group — NDCG@10 against retraining") == 2
    assert "far: group: users with group A" in text


OCCUPATIONS = (
    "administrator artist doctor educator engineer entertainment executive healthcare homemaker lawyer librarian "
    "marketing none other programmer retired salesman scientist student technician writer"
).split()
LABELS = {
    "base": "Base (trained on all data)",
    "retrain": "Retraining",
    "finetune": "Fine-tune on retained data",
    "neggrad": "NegGrad (gradient ascent)",
    "sisa": "SISA (sharded retraining)",
    "ids_only": "Control: IDs only (should fail)",
}


def _ml100k_shaped(hurt_group: str = "writer", labels: dict[str, str] = LABELS):
    """A run shaped like ML-100K's (activity 4 groups, age 7, gender 2, occupation 21; base and 4
    methods beside retraining) where NegGrad alone hurts one occupation: every other change is
    small and its interval straddles 0, so no other group is singled out."""
    from types import SimpleNamespace

    from core.breakdown.model import AttributeBreakdown, Breakdown

    rng = np.random.default_rng(7)
    shapes = {
        "activity": (
            "activity (training interactions, quartiles)",
            [f"band {i} of 4 (10–99 interactions)" for i in "1234"],
        ),
        "age": ("age band", ["under 18", "18–24", "25–34", "35–49", "50–55", "56+", "unknown"]),
        "gender": ("gender", ["F", "M"]),
        "occupation": ("occupation", OCCUPATIONS),
    }
    attributes = {}
    for name, (label, groups) in shapes.items():
        n = len(groups)
        cells = {"value": {}, "vs_retrain": {}, "vs_base": {}}
        for m in labels:
            change = rng.uniform(-0.04, 0.04, n) if m not in ("base", "retrain") else np.zeros(n)
            rows = [[float(v), float(v) - 0.05, float(v) + 0.05] for v in change]
            if m == "neggrad" and hurt_group in groups:
                rows[groups.index(hurt_group)] = [-0.15, -0.2, -0.1]
            cells["vs_retrain"][m] = {METRIC: rows}
            cells["vs_base"][m] = {METRIC: rows}
            cells["value"][m] = {METRIC: [[0.2 + r[0], 0.15 + r[0], 0.25 + r[0]] for r in rows]}
        gaps = {m: {METRIC: [0.05, 0.02, 0.09]} for m in labels if m != "retrain"}
        sizes = {m: [40 + 3 * g for g in range(n)] for m in labels}
        attributes[name] = AttributeBreakdown(name, label, list(groups), [], sizes, cells, gaps, list(range(n)))
    breakdown = Breakdown("retain", [], [METRIC], 0, 20, attributes)
    return SimpleNamespace(models={m: SimpleNamespace(label=t) for m, t in labels.items()}, breakdown=breakdown)


def test_the_pdf_page_holds_an_ml100k_shaped_breakdown_on_one_page():
    """4 attributes (34 groups) and 5 columns took two landscape pages at 9 pt; now one: the
    21 occupations are cut to the group NegGrad hurts (named, shaded) and the most changed, one
    row gives the range of the rest and a line says where every group is; all text >= 9 pt."""
    import re

    from pypdf import PdfReader

    from core.reporting.breakdown_page import breakdown_pdf_page, pdf_block
    from core.reporting.pdf_doc import ReportDoc

    result = _ml100k_shaped()
    assert who_else_sentence(result.breakdown, "neggrad", METRIC, intervals=False).startswith(
        "Users whose occupation is writer lost"
    )
    doc = ReportDoc("t")
    breakdown_pdf_page(doc, result)
    assert doc.page_no() == 1  # the section added its page and stayed on it
    page = PdfReader(io.BytesIO(bytes(doc.output()))).pages[0]
    sizes = {float(s) for s in re.findall(rb"/F\d+\s+([\d.]+)\s+Tf", page.get_contents().get_data())}
    assert sizes and min(sizes) >= 9.0, sorted(sizes)
    text = " ".join(page.extract_text().split())
    assert "writer" in text and "-0.150 [-0.200, -0.100]" in text
    for group in ["F", "M", "under 18", "unknown"] + [f"band {i} of 4" for i in "1234"]:
        assert group in text  # short attributes keep every group
    assert text.count("fairness gap") == 1 + 4  # the intro's, then one row per attribute
    assert "all 21 groups are in the HTML report and in cragru-run --by occupation" in text
    shown = re.search(r"occupation \((\d+) of 21 groups listed\)", text)
    assert shown and f"the other {21 - int(shown[1])}:" in text

    # the writer's NegGrad cell is shaded, and no other cell; the range row is the others' own
    block = pdf_block(result, "occupation", 0)
    cells = {row[0][0]: row for row in block.rows}
    neggrad = 2 + list(m for m in LABELS if m != "retrain").index("neggrad")
    assert list(cells) == ["writer", "the other 20: from … to", "fairness gap"]
    assert cells["writer"][1][neggrad] and sum(sum(marks) for _, marks in block.rows) == 1
    ab = result.breakdown.attributes["occupation"]
    others = [ab.cell("vs_retrain", "neggrad", METRIC, g)[0] for g in range(21) if ab.groups[g] != "writer"]
    assert cells["the other 20: from … to"][0][neggrad] == f"{min(others):+.3f} to {max(others):+.3f}"


def test_the_html_keeps_every_group_and_a_short_breakdown_is_not_cut(hand_built_result):
    from core.reporting.breakdown_page import pdf_block

    result = _ml100k_shaped()
    section = breakdown_html(result)
    assert all(f"<td>{o}</td>" in section for o in OCCUPATIONS)
    planted = _with_breakdown(hand_built_result)
    for name, ab in planted.breakdown.attributes.items():
        block = pdf_block(planted, name, 0)
        assert not block.cut and [row[0][0] for row in block.rows] == [*ab.groups, "fairness gap"]


EVERY_METHOD = {
    "base": "Base (trained on all data)",
    "retrain": "Retraining",
    "cragru": "CRAGRU (retrieval-augmented LLM re-ranking)",
    "dual_memory": "Dual memory (generative + LoRA side memory)",
    "e2urec": "E2URec (LLM recommender, LoRA + teachers)",
    "finetune": "Fine-tune on retained data",
    "neggrad": "NegGrad (gradient ascent)",
    "receraser": "RecEraser (balanced shards + attention)",
    "reverse_bpr": "Reverse BPR (MMRecUn)",
    "sisa": "SISA (sharded retraining)",
    "unlearnrec": "UnlearnRec (pre-trained influence encoder)",
}


def test_every_method_side_by_side_keeps_one_page_and_whole_words():
    """Ten columns (every method ticked) took three landscape pages and split headings mid-word
    ("retrieval-au" / "gmented"): now one page, the model keys as headings (each word inside its
    column), each cell its change alone and a line saying where every interval is."""
    import re

    from pypdf import PdfReader

    from core.reporting.breakdown_page import breakdown_pdf_page
    from core.reporting.pdf_doc import ReportDoc

    result = _ml100k_shaped(labels=EVERY_METHOD)
    doc = ReportDoc("t")
    breakdown_pdf_page(doc, result)
    assert doc.page_no() == 1
    text = " ".join(PdfReader(io.BytesIO(bytes(doc.output()))).pages[0].extract_text().split()).replace("\xa0", " ")
    assert "retrieval-au gmented" not in text and "recommend er" not in text  # no word split over two lines
    assert "every cell with its 95 % interval is in the HTML report and in cragru-run --by" in text
    assert "-0.150" in text and "-0.150 [" not in text  # the writer's change, its interval left out
    from core.reporting.breakdown_page import PAD, _head, _width, _widths, pdf_block

    head = _head(doc, result)
    assert [h.replace("\u200b", "") for h in head[3:]] == [m for m in EVERY_METHOD if m != "retrain"]
    blocks = [pdf_block(result, name, 0, intervals=False) for name in result.breakdown.attributes]
    widths = _widths(doc, head, blocks)
    for cell, width in zip(head, widths):
        for word in re.split("[ \u200b]", cell):
            assert _width(doc, word, bold=True) - 1.0 <= width - 2 * PAD + 0.01, (word, width)
    few = ReportDoc("t")  # five columns: the labels fit, kept
    assert _head(few, _ml100k_shaped())[3:] == tuple(t for m, t in LABELS.items() if m != "retrain")


def test_twelve_methods_side_by_side_keep_each_heading_word_whole():
    """Every method and both controls (13 method columns with base): equal shares were narrower than
    "unlearnrec", printed "unlearnre" / "c". A column now keeps its heading's longest word, the others
    share the rest, the table still as wide as the page and on one page."""
    import re

    from core.reporting.breakdown_page import PAD, _head, _width, _widths, breakdown_pdf_page, pdf_block
    from core.reporting.pdf_doc import ReportDoc

    labels = dict(EVERY_METHOD, ids_only="Control: IDs only (should fail)")
    labels["control_retrain_seed"] = "Control: second retraining, another seed (should pass)"
    result = _ml100k_shaped(labels=labels)
    doc = ReportDoc("t")
    breakdown_pdf_page(doc, result)
    assert doc.page_no() == 1
    head = _head(doc, result)
    assert len(head) == 3 + len(labels) - 1
    blocks = [pdf_block(result, name, 0, intervals=False) for name in result.breakdown.attributes]
    widths = _widths(doc, head, blocks)
    assert sum(widths) <= doc.epw + 0.01
    for cell, width in zip(head, widths):
        for word in re.split("[ \u200b]", cell):
            assert _width(doc, word, bold=True) - 1.0 <= width - 2 * PAD + 0.01, (word, width)
