"""What the window writes for a reviewer: the report (HTML with CSV and JSON beside it, or
the PDF audit report) and the JSON receipt that ``cragru-run verify`` checks. Every file is
built by ``core`` — the same report and receipt ``cragru-run --report/--receipt`` write."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PySide6.QtWidgets import QFileDialog, QWidget

from core.model_cache import MemoryCache
from core.reporting.export import export_all, write_report
from cragru_gui import errors
from cragru_gui.worker import TaskRunner

REPORT_FILTERS = "HTML report (*.html);;PDF report (*.pdf)"
RECEIPT_FILTER = "Receipt (*.json)"


def choose_save_path(parent: QWidget | None, suggested: str, filters: str = REPORT_FILTERS) -> str | None:
    """Where to save (monkeypatchable in tests)."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save", suggested, filters)
    return path or None


@dataclass(frozen=True)
class Saving:
    """What writing a file needs from the window, handed over when the window is built: the
    dialogs' parent, the task runner that writes off the GUI thread, the status-bar message
    (``say(text, timeout_ms)``) and the run log (``log(text)``)."""

    parent: QWidget
    tasks: TaskRunner
    say: Callable[[str, int], None]
    log: Callable[[str], None]


def _suggested(result, what: str, suffix: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M", time.localtime(result.started_at or time.time()))
    return str(Path.home() / f"cragru-{what}-{stamp}{suffix}")


def _ready(saving: Saving, result) -> bool:
    if result is None:
        errors.show_error(saving.parent, "Nothing to save", "Run an experiment or open one from History first.")
        return False
    return True


def _write_in_background(saving: Saving, what: str, path: str, write: Callable[[], object], said):
    """Write off the GUI thread (hashing a large dataset for the receipt or laying out a PDF
    must not freeze the window); the outcome is said on the GUI thread. Returns the task."""

    def done(written) -> None:
        saving.say(said(written), 15000)
        saving.log(said(written))

    def failed(exc: BaseException) -> None:
        errors.report_exception(saving.parent, exc, f"Cannot write the {what}")

    saving.say(f"Writing the {what} {Path(path).name}…", 0)
    return saving.tasks.start(f"save {what} {path}", lambda task: write(), on_done=done, on_error=failed)


def export_report(saving: Saving, result, images: Callable[[], dict[str, bytes]], path: str | None = None):
    """``.pdf``: the audit report as PDF; otherwise the HTML report with CSV and JSON beside it.
    Charts go in as the person sees them (``images()``, called here, on the GUI thread). Returns
    the writing task (its ``value``: the files written), or None when nothing is to be written."""
    if not _ready(saving, result):
        return None
    path = path or choose_save_path(saving.parent, _suggested(result, "report", ".html"))
    if not path:
        return None
    pngs = images()

    def write() -> list[Path]:
        signed = signed_for(result)  # the same signed receipt as File → Save receipt: one fingerprint
        if Path(path).suffix.lower() == ".pdf":
            return [write_report(result, path, pngs, receipt=signed)]
        return export_all(result, path, pngs, receipt=signed)

    return _write_in_background(
        saving, "report", path, write, lambda written: "exported " + ", ".join(str(p) for p in written)
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


def save_receipt(saving: Saving, result, path: str | None = None):
    """The JSON receipt: data and request fingerprints, subjects, verdicts, evidence.
    Returns the writing task (its ``value``: the receipt's path), or None."""
    if not _ready(saving, result):
        return None
    path = path or choose_save_path(saving.parent, _suggested(result, "receipt", ".json"), RECEIPT_FILTER)
    if not path:
        return None
    from core.receipt import write_receipt

    return _write_in_background(
        saving,
        "receipt",
        path,
        lambda: write_receipt(result, path, signed=signed_for(result)),
        lambda written: (
            f"receipt written to {written} (check it with: cragru-run verify {Path(written).name} --data …)"
        ),
    )
