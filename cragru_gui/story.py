"""The run told in a few sentences: what was forgotten, what each model still remembers,
who else was hurt, what it cost. Formatting of RunResult numbers only."""

from __future__ import annotations

import html
import math


def _ok(value) -> bool:
    return isinstance(value, (int, float)) and not (isinstance(value, float) and (math.isnan(value) or math.isinf(value)))


def _arrow(before, after, digits: int = 3) -> str:
    if not (_ok(before) and _ok(after)):
        return "—"
    return f"{before:.{digits}f} → <b>{after:.{digits}f}</b>"


def result_story(result) -> str:
    """HTML: one headline sentence and one line per unlearned model."""
    req = result.request
    head = (f"Forgot <b>{html.escape(str(req.get('description', '?')))}</b> "
            f"({req.get('n_removed_rows', 0):,} training interactions) from "
            f"<b>{html.escape(str(result.dataset.get('name', '?')))}</b>.")
    base = result.models.get("base")
    if base is None:
        return head
    b = base.flat()
    lines = [head]
    retrain_time = result.models["retrain"].time_s if "retrain" in result.models else None
    for name, report in result.models.items():
        if name == "base":
            continue
        m = report.flat()
        parts = [f"remembers forgotten items {_arrow(b.get('forgotten_recall@10'), m.get('forgotten_recall@10'))}"
                 " (recall@10)"]
        if _ok(m.get("mia_auc")):
            parts.append(f"attack AUC {_arrow(b.get('mia_auc'), m.get('mia_auc'), 2)}")
        parts.append(f"similar users' NDCG@10 {_arrow(b.get('similar/ndcg@10'), m.get('similar/ndcg@10'))}")
        cost = f"{report.time_s:.1f} s"
        if name != "retrain" and retrain_time and report.time_s > 0:
            cost += f" ({retrain_time / report.time_s:.1f}× faster than retraining)"
        parts.append(cost)
        lines.append(f"<b>{html.escape(report.label)}</b>: " + "; ".join(parts) + ".")
    return "<br>".join(lines)
