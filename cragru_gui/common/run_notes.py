"""Two facts every view states the same way where its figures are shown: which models were
measured on a user sample (:func:`core.reporting.people.is_sampled` decides), and who
counts as a forgotten user when the request removes items or interactions rather than
whole people."""

from __future__ import annotations

from core.reporting.people import is_sampled

SAMPLE_MARK = "measured on a user sample"


def sample_note(report) -> str:
    """The report's own words on its user sample ("" when it was measured on everyone)."""
    if not is_sampled(report):
        return ""
    return next((note for note in report.notes if note.startswith(SAMPLE_MARK)), SAMPLE_MARK)


def sampled_models(result) -> dict[str, str]:
    """name → its sample note, for every model of ``result`` measured on a user sample."""
    return {name: note for name, report in result.models.items() if (note := sample_note(report))}


def forgotten_users_sentence(kind: str, n_touched: int, n_users: int | None = None) -> str:
    """Who the "forgotten users" are for a request of ``kind`` ("" for a request to forget users)."""
    of = f" of {n_users:,}" if n_users else ""
    if kind == "items":
        return (
            f"For a request to forget items, every user who had trained on one of these items counts as a "
            f"forgotten user — {n_touched:,}{of} users here: they lose those interactions and keep the rest "
            "of their history."
        )
    if kind == "interactions":
        return (
            f"Every user who lost at least one interaction counts as a forgotten user — {n_touched:,}{of} "
            "users here; they keep their other interactions."
        )
    return ""


def result_forgotten_users(result) -> str:
    """:func:`forgotten_users_sentence` for a finished run."""
    groups = result.groups or {}
    touched = len(groups.get("forget_users_all") or groups.get("users", {}).get("forget", []))
    return forgotten_users_sentence(str(result.request.get("kind", "")), touched, result.dataset.get("n_users"))
