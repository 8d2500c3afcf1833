"""The run told in a few sentences: what was forgotten, what each model still remembers,
who else was hurt, what it cost. Words and formats come from the metric catalogue."""

from __future__ import annotations

import html

from core.reporting.catalogue import entry_for
from core.reporting.numbers import format_value, is_finite

STORY_KEYS = ("forgotten_recall@10", "attack/fold_in_auc", "attack/record_auc", "mia_auc", "similar/ndcg@10")
"""Figures told per model, before → after, when the run measured them."""


def _arrow(key: str, before, after) -> str:
    entry = entry_for(key)
    if not (is_finite(before) and is_finite(after)):
        return ""
    return f"{entry.short} {entry.format(before)} → <b>{entry.format(after)}</b>"


def _cost(flat: dict, name: str) -> str:
    cost = f"{entry_for('time_s').short} {format_value('seconds', flat.get('time_s'))}"
    if is_finite(flat.get("prep_time_s")) and flat["prep_time_s"] > 0:
        cost += f" + {entry_for('prep_time_s').short} {format_value('seconds', flat['prep_time_s'])}"
    speedup = flat.get("speedup_vs_retrain")
    if name != "retrain" and is_finite(speedup):
        cost += f" ({entry_for('speedup_vs_retrain').format(speedup)} faster than retraining)" if speedup >= 1 \
            else f" ({entry_for('speedup_vs_retrain').format(speedup)}: slower than retraining)"
    return cost


def result_story(result) -> str:
    """HTML: one headline sentence and one line per model after the original one."""
    req = result.request
    head = (f"Forgot <b>{html.escape(str(req.get('description', '?')))}</b> "
            f"({req.get('n_removed_rows', 0):,} training interactions) from "
            f"<b>{html.escape(str(result.dataset.get('name', '?')))}</b>.")
    if "base" not in result.models:
        return head
    before = result.models["base"].flat()
    lines = [head]
    for name, report in result.models.items():
        if name == "base":
            continue
        after = report.flat()
        parts = [text for key in STORY_KEYS if (text := _arrow(key, before.get(key), after.get(key)))]
        parts.append(_cost(after, name))
        lines.append(f"<b>{html.escape(report.label)}</b>: " + "; ".join(parts) + ".")
    return "<br>".join(lines)
