"""What the inspector's markers mean, said for the request and the user at hand.

A removed item that a model still recommends is not necessarily a memory: the retrained
model, which never saw it, may recommend it too because it is popular or fits the user's
other tastes. The marker says which case it is; the legend says what the marks mean for
this kind of request, and that a bystander has nothing removed.
"""

from __future__ import annotations

MOVES = (
    "<span style='color:#2e7d32'>▲</span> moved up &nbsp; <span style='color:#b23b3b'>▼</span> moved down "
    "&nbsp; <b>new</b> not in the base top-10 &nbsp; <s>gone</s> dropped out"
)
REMOVED_MARK = "<span style='background:#ffe2cc;color:#8a3b00'>&nbsp;✕ removed&nbsp;</span>"
POPULAR = (
    "<b>≈ retrain too</b>: the retrained model, which never saw the removed data, recommends it as well — "
    "because it is popular or fits the user's other tastes. That is not a memory; only a removed item the "
    "retrained model does not recommend can be a trace of the forgotten data."
)


def legend_text(kind: str, touched: bool) -> str:
    """What the markers mean for this request and this user (a bystander has nothing removed)."""
    if kind == "items":
        return (
            f"{REMOVED_MARK} one of the items this request removed from everyone's training data. {POPULAR}<br>{MOVES}"
        )
    if touched:
        return f"{REMOVED_MARK} an item this request removed from this user's training data. {POPULAR}<br>{MOVES}"
    if kind:
        return (
            "This user asked for nothing: none of their data was removed, so nothing is marked as removed; "
            f"changes in their list are collateral. {MOVES}"
        )
    return MOVES


def removed_marker(model: str, retrain_recommends: bool) -> tuple[str, str]:
    """(mark after the title, tooltip reason) of a removed item in ``model``'s list."""
    if model == "retrain":
        return (
            "✕ removed · recommended anyway",
            "the retrained model never saw this: it suggests it because it is popular or fits the user's "
            "other tastes — not a memory",
        )
    if retrain_recommends:
        return "✕ removed · ≈ retrain too", "the retrained model recommends it too, so it is not a memory"
    return (
        "✕ removed · still here",
        "a removed item the retrained model does not recommend: a possible trace of the forgotten data",
    )
