"""What the window writes for a reviewer: the report (HTML with CSV and JSON beside it, or
the PDF audit report) and the JSON receipt that ``cragru-run verify`` checks. Every file is
built by ``core`` — the same report and receipt ``cragru-run --report/--receipt`` write."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from PySide6.QtWidgets import QFileDialog, QWidget

from core.model_cache import MemoryCache
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


def _write_in_background(window, what: str, path: str, write: Callable[[], object], said: Callable[[object], str]):
    """Write off the GUI thread (hashing a large dataset for the receipt or laying out a PDF
    must not freeze the window); the outcome is said on the GUI thread. Returns the task."""

    def done(written) -> None:
        window.statusBar().showMessage(said(written), 15000)
        window._log(said(written))

    def failed(exc: BaseException) -> None:
        errors.report_exception(window, exc, f"Cannot write the {what}")

    window.statusBar().showMessage(f"Writing the {what} {Path(path).name}…")
    return window.tasks.start(f"save {what} {path}", lambda task: write(), on_done=done, on_error=failed)


def export_report(window, path: str | None = None):
    """``.pdf``: the audit report as PDF; otherwise the HTML report with CSV and JSON beside it.
    Charts go in as the person sees them (captured here, on the GUI thread). Returns the
    writing task (its ``value``: the files written), or None when nothing is to be written."""
    if not _ready(window):
        return None
    path = path or choose_save_path(window, _suggested(window, "report", ".html"))
    if not path:
        return None
    images, result = window.charts.png_images(), window.result

    def write() -> list[Path]:
        signed = signed_for(result)  # the same signed receipt as File → Save receipt: one fingerprint
        if Path(path).suffix.lower() == ".pdf":
            return [write_report(result, path, images, receipt=signed)]
        return export_all(result, path, images, receipt=signed)

    return _write_in_background(
        window, "report", path, write, lambda written: "exported " + ", ".join(str(p) for p in written)
    )


_SIGNED = MemoryCache(8)


def signed_for(result) -> dict:
    """The run's signed receipt, made once (off the GUI thread) and shared by its report and its
    receipt file, so the report's sign-off block prints the fingerprint of the receipt saved."""
    from core.receipt import signed_receipt

    key = (result.run_id, id(result))
    if key not in _SIGNED:
        _SIGNED.put(key, signed_receipt(result))
    return _SIGNED.get(key)


def save_receipt(window, path: str | None = None):
    """The JSON receipt: data and request fingerprints, subjects, verdicts, evidence.
    Returns the writing task (its ``value``: the receipt's path), or None."""
    if not _ready(window):
        return None
    path = path or choose_save_path(window, _suggested(window, "receipt", ".json"), RECEIPT_FILTER)
    if not path:
        return None
    from core.receipt import write_receipt

    result = window.result
    return _write_in_background(
        window,
        "receipt",
        path,
        lambda: write_receipt(result, path, signed=signed_for(result)),
        lambda written: (
            f"receipt written to {written} (check it with: cragru-run verify {Path(written).name} --data …)"
        ),
    )
