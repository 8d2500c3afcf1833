"""What the window writes for a reviewer: the report (HTML with CSV and JSON beside it, or
the PDF audit report) and the JSON receipt that ``cragru-run verify`` checks. Every file is
built by ``core`` — the same report and receipt ``cragru-run --report/--receipt`` write."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from core.reporting.export import export_all, write_report
from cragru_gui import errors

REPORT_FILTERS = "HTML report (*.html);;PDF report (*.pdf)"
RECEIPT_FILTER = "Receipt (*.json)"


def choose_save_path(parent: QWidget | None, suggested: str, filters: str = REPORT_FILTERS) -> str | None:
    """Where to save (monkeypatchable in tests)."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save", suggested, filters)
    return path or None


def _suggested(window, what: str, suffix: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M", time.localtime(window.result.started_at or time.time()))
    return str(Path.home() / f"cragru-{what}-{stamp}{suffix}")


def _ready(window) -> bool:
    if window.result is None:
        errors.show_error(window, "Nothing to save", "Run an experiment or open one from History first.")
        return False
    return True


def export_report(window, path: str | None = None) -> list[Path]:
    """``.pdf``: the audit report as PDF; otherwise the HTML report with CSV and JSON beside it.
    Charts go in as the person sees them."""
    if not _ready(window):
        return []
    path = path or choose_save_path(window, _suggested(window, "report", ".html"))
    if not path:
        return []
    images = window.charts.png_images()
    try:
        if Path(path).suffix.lower() == ".pdf":
            written = [write_report(window.result, path, images)]
        else:
            written = export_all(window.result, path, images)
    except Exception as exc:  # noqa: BLE001 - a file that cannot be written is said, not raised
        errors.report_exception(window, exc, "Cannot write the report")
        return []
    window.statusBar().showMessage("Wrote " + ", ".join(p.name for p in written), 15000)
    window._log("exported " + ", ".join(str(p) for p in written))
    return written


def save_receipt(window, path: str | None = None) -> Path | None:
    """The JSON receipt: data and request fingerprints, subjects, verdicts, evidence."""
    if not _ready(window):
        return None
    path = path or choose_save_path(window, _suggested(window, "receipt", ".json"), RECEIPT_FILTER)
    if not path:
        return None
    from core.receipt import write_receipt

    try:
        written = write_receipt(window.result, path)
    except Exception as exc:  # noqa: BLE001
        errors.report_exception(window, exc, "Cannot write the receipt")
        return None
    window.statusBar().showMessage(f"Wrote the receipt {written.name} (check it with: cragru-run verify "
                                   f"{written.name} --data …)", 15000)
    window._log(f"receipt written to {written}")
    return written
