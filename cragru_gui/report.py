"""Export a run: a self-contained HTML report, the metrics as CSV, the result as JSON.

Formatting only: numbers come from :class:`core.result.RunResult` (``flat()``,
``deltas()``); chart images are handed in as PNG bytes. No Qt here.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
from datetime import datetime
from pathlib import Path

from cragru_gui import judgement

KEY_METRICS = (
    ("retain/hit@10", "retained · Hit@10"),
    ("retain/ndcg@10", "retained · NDCG@10"),
    ("forget/hit@10", "forgotten · Hit@10"),
    ("forget/ndcg@10", "forgotten · NDCG@10"),
    ("similar/hit@10", "similar · Hit@10"),
    ("similar/ndcg@10", "similar · NDCG@10"),
    ("forgotten_recall@10", "forgotten-item recall@10"),
    ("mia_auc", "MIA AUC"),
    ("time_s", "time (s)"),
    ("speedup_vs_retrain", "speed-up vs retrain"),
)
CHART_TITLES = {
    "training_loss": "Training loss",
    "validation_ndcg": "Validation NDCG@10",
    "hit_by_group": "Hit@10 by user group",
    "ndcg_by_group": "NDCG@10 by user group",
    "forgotten_recall": "What the model still remembers (forgotten-item recall@10)",
    "mia_auc": "Membership inference AUC",
    "time": "Cost: unlearning vs retraining time",
}
CSV_FIELDS = ("run_id", "model", "label", "metric", "value", "delta_vs_base", "delta_vs_retrain")


def _num(value) -> bool:
    return isinstance(value, (int, float)) and not (isinstance(value, float) and (math.isnan(value) or math.isinf(value)))


def metric_rows(result) -> list[dict]:
    """One row per (model, metric): value and its deltas against base and retrain."""
    vs_base, vs_retrain = result.deltas("base"), result.deltas("retrain")
    rows = []
    for name, report in result.models.items():
        for key, value in report.flat().items():
            rows.append({
                "run_id": result.run_id,
                "model": name,
                "label": report.label,
                "metric": key,
                "value": value if _num(value) else None,
                "delta_vs_base": vs_base.get(name, {}).get(key),
                "delta_vs_retrain": vs_retrain.get(name, {}).get(key),
            })
    return rows


def write_csv(result, path: str | Path) -> Path:
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for row in metric_rows(result):
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return path


def write_json(result, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(result.to_json(include_topk=False), encoding="utf-8")
    return path


# -- HTML ---------------------------------------------------------------------------------
_CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: #13243a; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; }
h1 { color: #1d3f66; } h2 { color: #1d3f66; border-bottom: 1px solid #d5d9e0; padding-bottom: 4px; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em 0; font-size: 13px; }
th, td { border: 1px solid #d5d9e0; padding: 4px 8px; text-align: right; }
th { background: #eceff3; } td.name, th.name { text-align: left; }
td.good { background: #dff3e4; } td.bad { background: #fbe0de; } td.neutral { background: #fff5d6; }
.charts { display: grid; grid-template-columns: repeat(2, 1fr); gap: 12px; }
.charts figure { margin: 0; border: 1px solid #d5d9e0; border-radius: 4px; padding: 4px; }
.charts img { width: 100%; } figcaption { font-size: 12px; color: #5d6878; text-align: center; }
.request { background: #fff4e8; border: 1px solid #ffd2a8; border-radius: 4px; padding: 8px 12px; }
pre { background: #f6f7f9; border: 1px solid #d5d9e0; padding: 8px; font-size: 12px; overflow-x: auto; }
.hint { color: #5d6878; font-size: 12px; }
"""


def _fmt(key: str, value) -> str:
    if not _num(value):
        return "—"
    if key == "time_s":
        return f"{value:.2f}"
    if key == "speedup_vs_retrain":
        return f"{value:.1f}×"
    return f"{value:.4f}"


def _key_table(result) -> str:
    flats = {name: report.flat() for name, report in result.models.items()}
    base, retrain = flats.get("base", {}), flats.get("retrain", {})
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in KEY_METRICS)
    body = []
    for name, report in result.models.items():
        cells = []
        for key, _label in KEY_METRICS:
            value = flats[name].get(key)
            verdict = judgement.judge(key, value, base.get(key), retrain.get(key), name) or ""
            cells.append(f"<td class='{verdict}'>{_fmt(key, value)}</td>")
        body.append(f"<tr><td class='name'><b>{html.escape(name)}</b><br><span class='hint'>"
                    f"{html.escape(report.label)}</span></td>{''.join(cells)}</tr>")
    return f"<table><tr><th class='name'>model</th>{head}</tr>{''.join(body)}</table>"


def _full_table(result) -> str:
    rows = metric_rows(result)
    models = list(result.models)
    keys: list[str] = []
    for row in rows:
        if row["metric"] not in keys:
            keys.append(row["metric"])
    by = {(r["model"], r["metric"]): r for r in rows}
    head = "".join(f"<th>{html.escape(m)}</th><th>Δ base</th><th>Δ retrain</th>" for m in models)
    body = []
    for key in keys:
        cells = []
        for m in models:
            r = by.get((m, key), {})
            db, dr = r.get("delta_vs_base"), r.get("delta_vs_retrain")
            cells.append(f"<td>{_fmt(key, r.get('value'))}</td><td>{'—' if not _num(db) else f'{db:+.4f}'}</td>"
                         f"<td>{'—' if not _num(dr) else f'{dr:+.4f}'}</td>")
        body.append(f"<tr><td class='name'>{html.escape(key)}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th class='name'>metric</th>{head}</tr>{''.join(body)}</table>"


def _kv_table(values: dict) -> str:
    rows = "".join(
        f"<tr><td class='name'>{html.escape(str(k))}</td><td class='name'>{html.escape(str(v))}</td></tr>"
        for k, v in values.items() if not isinstance(v, (list, dict))
    )
    return f"<table>{rows}</table>"


def html_report(result, images: dict[str, bytes] | None = None, title: str = "CRAGRU Studio report") -> str:
    images = images or {}
    when = datetime.fromtimestamp(result.started_at).strftime("%Y-%m-%d %H:%M:%S") if result.started_at else ""
    request = result.request
    groups = {k: v for k, v in result.groups.items() if k.startswith("n_") or k == "similar_rule"}
    charts = "".join(
        f"<figure><img alt='{html.escape(CHART_TITLES.get(name, name))}' "
        f"src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}'>"
        f"<figcaption>{html.escape(CHART_TITLES.get(name, name))}</figcaption></figure>"
        for name, png in images.items() if png
    )
    notes = "".join(
        f"<li><b>{html.escape(name)}</b>: {html.escape('; '.join(r.notes))}</li>"
        for name, r in result.models.items() if r.notes
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} — run {html.escape(result.run_id)}</title>
<style>{_CSS}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Run <b>{html.escape(result.run_id)}</b>, started {when}, on {html.escape(str(result.dataset.get('name', '?')))}
({result.dataset.get('n_users', '?')} users, {result.dataset.get('n_items', '?')} items,
{result.dataset.get('n_interactions', '?')} interactions); device {html.escape(str(result.environment.get('device', '?')))}.</p>
<h2>What was asked to be forgotten</h2>
<div class="request"><b>{html.escape(str(request.get('description', '?')))}</b> —
{request.get('n_removed_rows', 0):,} training interactions removed, {request.get('n_forget_users', 0):,} users and
{request.get('n_forget_items', 0):,} items touched.</div>
<h3>Evaluation groups</h3>{_kv_table(groups)}
<h2>Key results</h2>
<p class="hint">Cells are coloured by closeness to the retrained model (the gold standard): green close,
amber somewhat off, red far. For forgotten-item recall and MIA AUC the target is retrain's value, not zero.</p>
{_key_table(result)}
{f'<ul>{notes}</ul>' if notes else ''}
<h2>Charts</h2><div class="charts">{charts or '<p class="hint">no charts</p>'}</div>
<h2>Every metric</h2>{_full_table(result)}
<h2>Configuration</h2><pre>{html.escape(json.dumps(result.config, indent=2, default=str))}</pre>
<h2>Split and environment</h2>{_kv_table(result.split)}{_kv_table(result.environment)}{_kv_table(result.timings)}
<p class="hint">Generated by CRAGRU Studio.</p>
</body></html>
"""


def export_all(result, html_path: str | Path, images: dict[str, bytes] | None = None) -> list[Path]:
    """Write ``report.html`` plus ``<stem>-metrics.csv`` and ``<stem>.json`` beside it."""
    html_path = Path(html_path)
    if html_path.suffix.lower() not in (".html", ".htm"):
        html_path = html_path.with_suffix(".html")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(html_report(result, images), encoding="utf-8")
    csv_path = write_csv(result, html_path.with_name(html_path.stem + "-metrics.csv"))
    json_path = write_json(result, html_path.with_name(html_path.stem + ".json"))
    return [html_path, csv_path, json_path]
