"""The metric catalogue, the judgement rules, the story and the report (no Qt)."""

from __future__ import annotations

import html
import json
import math
import re

import numpy as np
import pytest

from core.cli import main, models_table
from core.evaluation.metrics import DEFAULT_KS, METRICS
from core.groups import GROUPS
from core.reporting import catalogue, judgement, numbers
from core.reporting.catalogue import entry_for, lookup, ordered_keys
from core.reporting.export import CSV_FIELDS, export_all
from core.reporting.html_report import html_report
from core.reporting.story import result_story
from core.result import RunResult

ISSUE_12_KEYS = (
    "attack/fold_in_auc",
    "attack/record_auc",
    "attack/calibration_auc",
    "known_forgotten_users",
    *(f"agreement/{g}/{m}@10" for g in GROUPS for m in ("jaccard", "rbo")),
)


# -- the catalogue --------------------------------------------------------------------------
def test_every_protocol_key_has_an_entry_with_sane_words():
    keys = [f"{g}/{m}@{k}" for g in GROUPS for m in METRICS for k in DEFAULT_KS]
    keys += [f"forgotten_recall@{k}" for k in DEFAULT_KS]
    keys += ["mia_auc", "time_s", "prep_time_s", "speedup_vs_retrain", *ISSUE_12_KEYS]
    for key in keys:
        entry = lookup(key)
        assert entry is not None, key
        assert entry.target in (catalogue.CLOSE_TO_RETRAIN, catalogue.HIGHER_IS_BETTER, catalogue.LOWER_IS_BETTER)
        assert entry.fmt in numbers.FORMATS
        assert entry.label and entry.short and key not in entry.label, key
        assert len(entry.explanation) > 120 and "{" not in entry.explanation, key
        if entry.target == catalogue.CLOSE_TO_RETRAIN:
            assert "retrain" in entry.explanation, key


def test_targets_and_formats_say_what_good_means():
    for group in GROUPS:
        entry = entry_for(f"{group}/ndcg@10")
        assert (entry.group, entry.k, entry.section) == (group, 10, catalogue.UTILITY)
        assert entry.target == catalogue.CLOSE_TO_RETRAIN
        assert catalogue.GROUP_INFO[group].label in entry.label
        assert catalogue.GROUP_INFO[group].explanation in entry.explanation
    for key in ("forgotten_recall@10", "mia_auc", "attack/fold_in_auc", "attack/record_auc"):
        assert entry_for(key).target == catalogue.CLOSE_TO_RETRAIN
    assert entry_for("time_s").target == entry_for("prep_time_s").target == catalogue.LOWER_IS_BETTER
    assert entry_for("speedup_vs_retrain").target == catalogue.HIGHER_IS_BETTER
    assert entry_for("agreement/similar/rbo@10").target == catalogue.HIGHER_IS_BETTER
    assert entry_for("agreement/similar/rbo@10").family.interval and entry_for("attack/record_auc").family.interval
    assert entry_for("speedup_vs_retrain").format(22.46) == "22.5×"
    assert entry_for("time_s").format(736.0) == "12 min 16 s"
    assert entry_for("known_forgotten_users").format(1234.0) == "1,234"
    assert entry_for("retain/ndcg@10").format_delta(-0.01) == "-0.0100"


def test_unknown_keys_get_a_plain_entry_and_sort_last():
    assert lookup("clusters_s") is None and lookup("retain/ndcg") is None and lookup("elsewhere/ndcg@10") is None
    other = entry_for("clusters_s")
    assert other.label == "clusters_s" and other.target == catalogue.NOT_JUDGED
    keys = [
        "speedup_vs_retrain",
        "clusters_s",
        "similar/hit@10",
        "forgotten_recall@10",
        "retain/ndcg@20",
        "agreement/retain/rbo@10",
        "mia_auc",
        "retain/ndcg@10",
        "retain/hit@10",
        "time_s",
        "retain/ndcg@10",
    ]
    assert ordered_keys(keys) == [
        "retain/hit@10",
        "retain/ndcg@10",
        "retain/ndcg@20",
        "similar/hit@10",
        "forgotten_recall@10",
        "mia_auc",
        "agreement/retain/rbo@10",
        "time_s",
        "speedup_vs_retrain",
        "clusters_s",
    ]


def test_every_group_is_named_once_in_the_catalogue():
    assert tuple(catalogue.GROUP_INFO) == GROUPS
    assert catalogue.group_label("similar") == "similar users" and catalogue.group_label("similar", True) == "similar"


def test_the_glossary_explains_each_family_once_at_cut_off_ten():
    keys = [f"retain/ndcg@{k}" for k in DEFAULT_KS] + ["similar/ndcg@5", "time_s", "clusters_s"]
    glossary = catalogue.families_in(keys)
    assert [e.key for e in glossary] == ["retain/ndcg@10", "time_s"]


def test_one_finite_number_rule():
    for value in (1, 0.5, np.float32(2.0), np.int64(3)):
        assert numbers.is_finite(value)
    for value in (None, math.nan, math.inf, -math.inf, True, "1.0", np.nan):
        assert not numbers.is_finite(value)
    assert numbers.format_value(numbers.SCORE, None) == numbers.MISSING


def test_deltas_follow_the_same_finite_rule(hand_built_result):
    far = hand_built_result.models["far"]
    far.groups["retain"]["ndcg@10"] = math.inf  # an infinite figure has no meaningful difference
    far.groups["forget"]["ndcg@10"] = np.float32(0.5)  # numpy scalars do
    row = hand_built_result.deltas("retrain")["far"]
    assert "retain/ndcg@10" not in row
    assert row["forget/ndcg@10"] == pytest.approx(0.5 - 0.10)


# -- judgement ------------------------------------------------------------------------------
def test_judgement_rules():
    assert judgement.judge("retain/ndcg@10", 0.300, 0.31, 0.301) == judgement.GOOD
    assert judgement.judge("forget/ndcg@10", 0.079, 0.08, 0.04, "finetune") == judgement.BAD
    assert judgement.judge("forget/ndcg@10", 0.05, 0.08, 0.04, "finetune") == judgement.GOOD
    assert judgement.judge("mia_auc", 0.95, 0.95, 0.5, "base") == judgement.BAD
    assert judgement.judge("speedup_vs_retrain", 4.0, None, 1.0, "finetune") == judgement.GOOD
    assert judgement.judge("speedup_vs_retrain", 0.5, None, 1.0, "finetune") == judgement.BAD
    assert judgement.judge("retain/ndcg@10", 0.3, 0.3, 0.3, "retrain") is None
    assert judgement.judge("time_s", 1.0, 10.0, 5.0, "finetune") is None
    assert judgement.judge("clusters_s", 1.0, 10.0, 5.0, "cragru") is None
    # agreement with retrain: judged against the original model's agreement
    assert judgement.judge("agreement/similar/rbo@10", 0.9, 0.6, 1.0, "finetune") == judgement.GOOD
    assert judgement.judge("agreement/similar/rbo@10", 0.4, 0.6, 1.0, "finetune") == judgement.BAD
    assert judgement.judge("agreement/similar/rbo@10", 0.6, 0.6, 1.0, "base") is None


# -- story and report on a hand-built run ------------------------------------------------------
def test_story_uses_catalogue_words(hand_built_result):
    story = result_story(hand_built_result)
    recall, speed = entry_for("forgotten_recall@10"), entry_for("speedup_vs_retrain")
    assert f"{recall.short} 0.4000 → <b>0.1100</b>" in story
    assert f"{speed.format(16.0)} per request, {speed.format(16.0)} including set-up)" in story
    assert f"{speed.format(0.4)} per request" in story and "took longer than retraining" in story
    assert "Base model</b>:" not in story  # the original model is the "before"


def test_report_colours_cells_and_explains_measures(hand_built_result, tmp_path):
    page = html_report(hand_built_result)
    for name, report in hand_built_result.models.items():
        assert f"<b>{name}</b>" in page and report.label in page
    close = entry_for("forget/ndcg@10").format(0.11)
    assert re.search(f"<td class='good'[^>]*>{close}</td>", page)
    assert re.search(f"<td class='bad'[^>]*>{entry_for('speedup_vs_retrain').format(0.4)}</td>", page)
    for entry in catalogue.families_in(hand_built_result.models["base"].flat()):
        assert html.escape(entry.family.describe(entry.k)) in page
    for info in catalogue.GROUP_INFO.values():
        assert html.escape(info.explanation) in page
    assert "<img" not in page and "far note" in page
    html_path, csv_path, json_path = export_all(hand_built_result, tmp_path / "out", {"time": b"\x89PNG fake"})
    assert html_path.suffix == ".html" and "<img" in html_path.read_text()
    rows = csv_path.read_text(encoding="utf-8").splitlines()
    assert rows[0] == ",".join(CSV_FIELDS)
    assert any(r.startswith("handmade,far,Far method,mia_auc,") for r in rows)
    assert json.loads(json_path.read_text())["run_id"] == "handmade"


def test_cli_summary_uses_catalogue_labels(hand_built_result):
    text = models_table(hand_built_result)
    lines = text.splitlines()
    assert len(lines) == 1 + len(hand_built_result.models)
    for key in ("retain/ndcg@10", "mia_auc", "time_s", "speedup_vs_retrain"):
        assert entry_for(key).short in lines[0]
    assert "attack" not in lines[0]  # not measured in this run: no empty column
    assert lines[4].split()[0] == "far" and "0.4×" in lines[4]


# -- end to end: the runner's keys and the CLI's --report ----------------------------------------
def test_cli_report_and_every_runner_key_resolves(isolated_home, tmp_path, capsys):
    out, page = tmp_path / "result.json", tmp_path / "report.html"
    code = main(
        [
            "--data",
            "demo",
            "--forget",
            "users:random:0.05",
            "--methods",
            "retrain,finetune",
            "--epochs",
            "4",
            "--quiet",
            "--no-history",
            "--out",
            str(out),
            "--report",
            str(page),
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert f"report written to {page}" in capsys.readouterr().out
    result = RunResult.from_dict(json.loads(out.read_text()))
    for report in result.models.values():
        for key in report.flat():
            assert lookup(key) is not None, f"{key} has no catalogue entry"
    text = page.read_text(encoding="utf-8")
    for name, report in result.models.items():
        assert f"<b>{name}</b>" in text and html.escape(report.label) in text
    measured = catalogue.present_keys(
        {k for r in result.models.values() for k in r.flat()}, [r.flat() for r in result.models.values()]
    )
    assert measured
    for entry in catalogue.families_in(measured):
        assert html.escape(entry.family.describe(entry.k)) in text
    assert html.escape(entry_for("retain/ndcg@10").short) in text


@pytest.mark.parametrize("suffix", ["", ".htm"])
def test_report_path_suffix(hand_built_result, tmp_path, suffix):
    from core.reporting.export import write_html

    path = write_html(hand_built_result, tmp_path / f"r{suffix}")
    assert path.suffix in (".html", ".htm") and path.exists()


# -- the forgetting evidence in the story and the report -------------------------------------------
def _with_neutral_and_via(result):
    from dataclasses import replace

    for report in result.models.values():
        for name, found in report.attacks.items():
            report.attacks[name] = replace(found, neutral_note="forgotten users and outsiders are exchangeable: ≈ 0.5")
    few = result.models["few"].attacks
    few["fold-in"] = replace(few["fold-in"], via="measured on the base model this method re-ranks")
    return result


def test_story_tells_attacks_with_intervals_agreement_and_known_users(evidence_result):
    story = result_story(_with_neutral_and_via(evidence_result))
    fold_in = entry_for("attack/fold_in_auc").short
    assert f"{fold_in} <b>0.900</b> [0.870, 0.930] (retrain 0.500)" in story
    assert "top-10 agreement with retraining (RBO): similar 0.50 (original 0.60)" in story
    assert f"{entry_for('known_forgotten_users').label}: 42 of 42" in story
    assert "Neutral points for a request to forget users — " in story
    assert f"{fold_in}: forgotten users and outsiders are exchangeable: ≈ 0.5" in story
    assert "Few: the fold-in attack was measured on the base model this method re-ranks." in story
    assert "Retrain</b>:" in story and "(retrain" not in story.split("Retrain</b>:")[1].split("<br>")[0]


def test_report_has_the_evidence_section(evidence_result):
    page = html_report(_with_neutral_and_via(evidence_result))
    assert "<h2>Forgetting evidence</h2>" in page and "<h3>Can an attacker still tell?</h3>" in page
    assert re.search(
        r"<td class='bad'[^>]*>0\.900 \[0\.870, 0\.930\]</td><td>\+0\.400 \[\+0\.350, \+0\.450\]</td>", page
    )
    assert re.search(r"<td class='unsure'[^>]*>0\.550 \[0\.520, 0\.580\]</td>", page)
    assert "not enough users to tell" in page  # legend and reasons
    assert "exchangeable: ≈ 0.5" in page and "measured on the base model this method re-ranks" in page
    agreement = page.split("<h3>Agreement with retraining</h3>")[1].split("</table>")[0]
    assert "(reference)" in agreement and "<b>retrain</b>" not in agreement
    assert re.search(r"<td class='good'[^>]*>0\.9000 \[0\.8800, 0\.9200\]</td>", agreement)
    known = page.split("<h3>Forgotten users the model still has a profile for</h3>")[1].split("</table>")[0]
    assert "42 of 42" in known and "0 of 42" in known
    # the full table: paired differences with their interval
    assert "+0.1800 [+0.1500, +0.2100]" in page


# -- the report's print charts (issue 24: no overlaps, ticks inside the plot) -----------------
def _text_boxes(doc):
    """Record every text cell's ink box (page, left, right, top, bottom, text) and every dashed
    vertical line (page, x, top, bottom) drawn on ``doc`` from now on."""
    boxes, lines = [], []
    cell, line = doc.cell, doc.line

    def recorded_cell(w=None, h=None, text="", *args, align="L", **kwargs):
        if text.strip():
            ink = doc.get_string_width(text)
            width = w or ink + 2 * doc.c_margin
            side = str(align).rsplit(".", 1)[-1][:1].upper()
            left = {"L": doc.get_x() + doc.c_margin, "R": doc.get_x() + width - doc.c_margin - ink}.get(
                side, doc.get_x() + (width - ink) / 2
            )
            middle = doc.get_y() + (h or doc.font_size) / 2
            boxes.append(
                (doc.page, left, left + ink, middle - 0.35 * doc.font_size, middle + 0.35 * doc.font_size, text)
            )
        return cell(w, h, text, *args, align=align, **kwargs)

    def recorded_line(x1, y1, x2, y2):
        if x1 == x2 and doc.dash_pattern.get("dash"):
            lines.append((doc.page, x1, min(y1, y2), max(y1, y2)))
        return line(x1, y1, x2, y2)

    doc.cell, doc.line = recorded_cell, recorded_line
    return boxes, lines


def _overlaps(boxes, lines) -> list:
    found = []
    for i, a in enumerate(boxes):
        found += [
            (a[5], b[5])
            for b in boxes[i + 1 :]
            if a[0] == b[0] and a[1] < b[2] and b[1] < a[2] and a[3] < b[4] and b[3] < a[4]
        ]
        found += [
            (a[5], f"dashed line at x={x:.1f}")
            for p, x, top, bottom in lines
            if p == a[0] and a[1] < x < a[2] and a[3] < bottom and top < a[4]
        ]
    return found


def test_print_charts_put_no_label_on_another_or_on_a_dashed_line():
    from core.reporting.pdf_doc import ReportDoc
    from core.reporting.print_charts import Point, Reference, cost_chart, dot_chart

    doc = ReportDoc("charts")
    doc.add_page()
    boxes, lines = _text_boxes(doc)
    near = [("retrain", 0.52), ("a_longer_method_name", 0.99), ("neggrad", 0.03), ("base", 1.0)]
    rows = [(name, {"v": Point(v, v - 0.05, min(v + 0.05, 1.0))}) for name, v in near]
    dot_chart(doc, "AUC", "caption", rows, ["v"], [Reference(0.52, "retrain"), Reference(0.5, "chance")], "AUC")
    groups = ["retained users", "forgotten users", "similar users"]
    rows = [(n, {g: Point(v + i / 100, v - 0.05, v + 0.05) for i, g in enumerate(groups)}) for n, v in near[:2]]
    dot_chart(doc, "NDCG", "caption", rows, groups, [], "NDCG@10")
    # totals at, just before, just after and well before retraining's line; minutes on the axis
    cost_chart(doc, [("retrain", 0, 50), ("a", 0, 49.5), ("b", 0, 50.6), ("c", 0, 44), ("d", 0, 47), ("e", 0, 30)], 50)
    cost_chart(doc, [("retrain", 0, 600), ("sisa", 3000, 12.0), ("finetune", 0, 590), ("none", 0, 0.0)], 600)
    assert len(boxes) > 40 and lines
    assert _overlaps(boxes, lines) == []
    assert all(doc.l_margin - 0.01 <= left and right <= doc.w - doc.r_margin + 0.01 for _, left, right, *_ in boxes)


@pytest.mark.parametrize("low, high", [(-0.02, 1.08), (0.0, 0.3), (0.45, 0.9), (0.0, 3750.0), (0.0, 1e-9)])
def test_axis_ticks_stay_inside_the_plotted_range(low, high):
    from core.reporting.print_charts import axis_ticks

    ticks = axis_ticks(low, high)
    assert 3 <= len(ticks) <= 7 and ticks == sorted(ticks)
    assert all(low - (high - low) * 1e-9 <= t <= high + (high - low) * 1e-9 for t in ticks), ticks


def _grid_calls(doc) -> list:
    calls, grid = [], doc.grid

    def recorded(rows, **kwargs):
        calls.append((rows, kwargs))
        return grid(rows, **kwargs)

    doc.grid = recorded
    return calls


def _fits(doc, rows, widths, bold: bool) -> list:
    """Cells of ``rows`` with a line wider than their column (less padding) in the report's body font."""
    from core.reporting.pdf_doc import BODY_PT, GRID_PADDING

    doc.font(BODY_PT, bold=bold)
    return [
        cell
        for row in rows[1:]
        for cell, width in zip(row, widths)
        if any(doc.get_string_width(line) > width - 2 * GRID_PADDING for line in cell.split("\n"))
    ]


def test_a_wide_evidence_table_is_printed_in_parts_that_fit():
    """Eleven models side by side wrapped every figure over three lines and split names ("dual_me" / "mory")."""
    from types import SimpleNamespace

    from core.reporting import pdf_report
    from core.reporting.pdf_doc import ReportDoc

    models = ["base", "retrain", *(f"method_{i}" for i in range(9))]
    rows = [("measure", *models)]
    rows += [(f"measure {k}", *(f"0.{k}{i:03d} [0.{k}000, 0.{k}999]" for i in range(11))) for k in range(6)]
    rows += [("   Δ retrain", *(f"+0.{i:04d} [+0.0707, +0.1581]" for i in range(11)))]
    doc = ReportDoc("t")
    calls = _grid_calls(doc)
    pdf_report._evidence(doc, SimpleNamespace(evidence=tuple(rows), erasure_audits={}))
    assert [len(part[0]) - 1 for part, _ in calls] == [6, 5]
    assert [name.replace("\u200b", "") for part, _ in calls for name in part[0][1:]] == models
    assert all(len(part) == len(rows) for part, _ in calls)
    for part, kwargs in calls:
        assert _fits(doc, [r[1:] for r in part], kwargs["widths"][1:], bold=False) == []
        assert all(cell.count("\n") <= 1 for row in part[1:] for cell in row)  # the figure, then its interval


def test_before_after_titles_are_cut_to_one_line_of_their_cell():
    """A title cut by character count still wrapped in bold, and a wrapped table ran onto the next page."""
    from types import SimpleNamespace

    from core.reporting import pdf_report
    from core.reporting.audit import Example
    from core.reporting.pdf_doc import ReportDoc

    models = tuple(f"model_{i}" for i in range(11))
    titles = tuple(tuple(f"The Extraordinarily Long Title Number {r}{m}" for m in range(11)) for r in range(10))
    marks = tuple(tuple(bool((r + m) % 2) for m in range(11)) for r in range(10))
    examples = [Example(str(u), models, titles, marks) for u in (7, 8)]
    doc = ReportDoc("t")
    doc.add_page(orientation="L")
    calls = _grid_calls(doc)
    pdf_report._examples(doc, SimpleNamespace(examples=examples))
    assert calls
    for rows, kwargs in calls:
        assert _fits(doc, rows, kwargs["widths"], bold=True) == []
        assert all(cell.endswith("…") for row in rows[1:] for cell in row[1:])


@pytest.mark.parametrize("kind", ["dots", "groups", "cost"])
def test_a_chart_and_its_caption_share_a_page_wherever_it_starts(kind):
    """The 22-page report had four pages holding a caption only, its chart on the next page."""
    from core.reporting.pdf_doc import ReportDoc
    from core.reporting.print_charts import Point, Reference, cost_chart, dot_chart

    groups = ["retained users", "forgotten users", "similar users"]
    doc = ReportDoc("t")
    doc.footer = lambda: None  # only the chart's own text is followed
    pages, cell, para = [], doc.cell, doc.para  # the title and caption are paragraphs, the chart's text cells
    doc.cell = lambda *a, **k: (pages.append(doc.page), cell(*a, **k))[1]
    doc.para = lambda *a, **k: (para(*a, **k), pages.append(doc.page))[0]  # the page it ends on
    for start in range(20, 280, 9):
        doc.add_page()
        doc.set_y(start)
        pages.clear()
        if kind == "cost":
            cost_chart(doc, [(f"m{i}", 1.0, float(i)) for i in range(8)], 3.0)
        else:
            series = groups if kind == "groups" else ["v"]
            rows = [(f"m{i}", {s: Point(0.1 * i, 0.05 * i, 0.15 * i) for s in series}) for i in range(8)]
            dot_chart(doc, "Title", "A caption " * 30, rows, series, [Reference(0.3, "retrain")], "axis")
        assert len(set(pages)) == 1 and pages[0] == doc.page, (start, sorted(set(pages)))
        assert doc.get_y() <= doc.h - doc.b_margin + 0.01, start


def test_lights_and_series_are_told_apart_by_shape_not_only_colour():
    from core.reporting.pdf_report import LIGHT_MARKS
    from core.reporting.print_charts import FILLS, MARKERS
    from core.reporting.verdicts import AMBER, GREEN, RED

    assert len({LIGHT_MARKS[c] for c in (GREEN, AMBER, RED)}) == 3 and "diamond" not in LIGHT_MARKS.values()
    assert len(set(MARKERS)) == len(MARKERS) and len(set(zip(MARKERS, FILLS))) == len(MARKERS)


def test_a_verdict_rows_height_holds_its_method_name():
    """A row was 9.5 mm whatever its name: a three-line name ran over the next row's ("cragru" over
    "Dual memory") in the every-method report."""
    from core.reporting import pdf_report
    from core.reporting.lights import GREEN, MethodVerdict, Verdict
    from core.reporting.pdf_doc import ReportDoc

    answer = Verdict("q", GREEN, "s")
    long = "CRAGRU (retrieval-augmented LLM re-ranking) and a longer name still"
    found = [MethodVerdict(m, label, answer, answer, answer, True) for m, label in (("cragru", long), ("n", "Short"))]
    doc = ReportDoc("t")
    doc.add_page()
    rects, rect = [], doc.rect
    doc.rect = lambda x, y, w, h, *a, **k: (rects.append((y, h)), rect(x, y, w, h, *a, **k))[1]
    pdf_report._verdict_table(doc, found)
    rows = [(y, h) for y, h in rects if h >= 9.5]  # the rows' frames (the light markers are small)
    doc.font(pdf_report.BODY_PT)
    lines = len(doc.multi_cell(51, 4.4, f"{long} (user sample)\ncragru", dry_run=True, output="LINES"))
    assert lines >= 3 and rows[0][1] >= lines * 4.4
    assert rows[1][0] >= rows[0][0] + rows[0][1] - 0.01  # the next row starts below the name
