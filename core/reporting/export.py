"""Export a run: the metrics as CSV, the result as JSON, and all of it beside the HTML report.

Formatting only: numbers come from :class:`core.result.RunResult`; words from the metric
catalogue. No Qt here, so the window's Export button and ``cragru-run`` write the same files.
"""

from __future__ import annotations

import csv
from pathlib import Path

from core.reporting.catalogue import entry_for, ordered_keys
from core.reporting.html_report import html_report
from core.reporting.numbers import is_finite

CSV_FIELDS = (
    "run_id",
    "model",
    "label",
    "metric",
    "metric_label",
    "target",
    "value",
    "delta_vs_base",
    "delta_vs_retrain",
)


def metric_rows(result) -> list[dict]:
    """One row per (model, metric) in reading order: value and its deltas against base and retrain."""
    vs_base, vs_retrain = result.deltas("base"), result.deltas("retrain")
    rows = []
    for name, report in result.models.items():
        values = report.flat()
        for key in ordered_keys(values):
            entry, value = entry_for(key), values[key]
            rows.append(
                {
                    "run_id": result.run_id,
                    "model": name,
                    "label": report.label,
                    "metric": key,
                    "metric_label": entry.label,
                    "target": entry.target,
                    "value": float(value) if is_finite(value) else None,
                    "delta_vs_base": vs_base.get(name, {}).get(key),
                    "delta_vs_retrain": vs_retrain.get(name, {}).get(key),
                }
            )
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


def write_html(
    result, path: str | Path, images: dict[str, bytes] | None = None, audit=None, receipt: dict | None = None
) -> Path:
    """The HTML report alone (``.html`` added when the name has no such suffix); ``audit``
    (:class:`core.reporting.audit.AuditFacts`) adds the subjects, provenance and examples."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        path = path.with_suffix(".html")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html_report(result, images, audit=audit, receipt=receipt), encoding="utf-8")
    return path


def write_report(
    result, path: str | Path, images: dict[str, bytes] | None = None, audit=None, receipt: dict | None = None
) -> Path:
    """The audit report as PDF when ``path`` ends in ``.pdf``, else as HTML; the audit facts are
    gathered (the dataset re-read from the run's configuration) when not given. ``receipt`` (the
    signed receipt saved with it, :func:`core.receipt.signed_receipt`) puts its fingerprint on the
    sign-off block."""
    from core.reporting.audit import build_audit

    audit = audit if audit is not None else build_audit(result)
    if Path(path).suffix.lower() == ".pdf":
        from core.reporting.pdf_report import write_pdf

        return write_pdf(result, path, images, audit, receipt)
    return write_html(result, path, images, audit, receipt)


def export_all(
    result, html_path: str | Path, images: dict[str, bytes] | None = None, receipt: dict | None = None
) -> list[Path]:
    """Write ``report.html`` plus ``<stem>-metrics.csv`` and ``<stem>.json`` beside it; ``receipt``
    as for :func:`write_report`."""
    html_path = write_html(result, html_path, images, receipt=receipt)
    csv_path = write_csv(result, html_path.with_name(html_path.stem + "-metrics.csv"))
    json_path = write_json(result, html_path.with_name(html_path.stem + ".json"))
    return [html_path, csv_path, json_path]
