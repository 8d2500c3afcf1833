"""Per-user inspector: one user's top-10 before (base) and after (a chosen model), side by side.

Forgotten items are highlighted, rank shifts marked (▲ up, ▼ down, new, gone), the user's
own NDCG@10 under each model shown when the user is in an evaluation group, and the
overlap of the chosen model's list with the retrained model's (Jaccard, RBO; base's as the
reference), measured by :func:`core.evaluation.agreement.overlap_per_user`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cragru_gui.inspector.inspector_marks import legend_text, removed_marker

GROUP_CHOICES = (
    ("forget", "Forgotten users"),
    ("similar", "Similar users (collateral damage)"),
    ("retain", "Retained users"),
    ("outsiders", "Outsiders (never trained on)"),
    ("all", "All users"),
)
CHOSEN = "chosen"  # people listed from the Who was affected tab (UserInspector.show_users)
FORGOTTEN_BG = QColor("#ffe2cc")
FORGOTTEN_FG = QColor("#8a3b00")
UP, DOWN = "#2e7d32", "#b23b3b"


def overlap_with_retrain(topk: dict, user: int, models) -> dict[str, tuple[float, float]]:
    """model → (Jaccard, RBO) of ``user``'s top-10 under that model with retrain's list
    (models without a list for this user, and retrain itself, are left out)."""
    from core.evaluation.agreement import overlap_per_user

    reference = topk.get("retrain")
    if reference is None or user >= len(reference):
        return {}
    out = {}
    for model in dict.fromkeys(models):
        lists = topk.get(model)
        if model == "retrain" or lists is None or user >= len(lists):
            continue
        k = min(len(lists[user]), len(reference[user]))
        if k == 0:
            continue
        jaccard, rbo = overlap_per_user(np.asarray([lists[user][:k]]), np.asarray([reference[user][:k]]))
        out[model] = (float(jaccard[0]), float(rbo[0]))
    return out


def rank_shifts(before: list[int], after: list[int]) -> dict[int, int | None]:
    """item → (old rank − new rank) for items in ``after``; None when new in the list."""
    old = {item: r for r, item in enumerate(before)}
    return {item: (old[item] - r if item in old else None) for r, item in enumerate(after)}


class UserInspector(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("userInspector")
        self.result = None
        self.dataset = None
        self.removed_by_user: dict[int, np.ndarray] = {}
        self._users: list[int] = []
        self._chosen: list[int] = []

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(self._controls())
        self.info = QLabel("Run an experiment (or open one from History) to inspect users.", self)
        self.info.setObjectName("inspectorInfo")
        self.info.setWordWrap(True)
        self.info.setProperty("role", "info")
        layout.addWidget(self.info)
        layout.addLayout(self._lists(), 1)
        self.legend = QLabel(self)
        self.legend.setObjectName("inspectorLegend")
        self.legend.setProperty("role", "hint")
        self.legend.setWordWrap(True)
        layout.addWidget(self.legend)
        self.legend.setText(legend_text("", False))
        self.group_combo.currentIndexChanged.connect(self._fill_users)
        self.user_combo.activated.connect(lambda *_: self.refresh())
        self.user_combo.lineEdit().editingFinished.connect(self._typed_user)
        self.model_combo.currentIndexChanged.connect(lambda *_: self.refresh())

    def _controls(self) -> QHBoxLayout:
        controls = QHBoxLayout()
        self.group_combo = QComboBox(self)
        self.group_combo.setObjectName("inspectorGroup")
        for key, label in GROUP_CHOICES:
            self.group_combo.addItem(label, key)
        self.group_combo.setToolTip(
            "Which users to pick from: the forgotten ones, their most similar retained "
            "users (where collateral damage shows), or anyone"
        )
        self.user_combo = QComboBox(self)
        self.user_combo.setObjectName("inspectorUser")
        self.user_combo.setEditable(True)
        self.user_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.user_combo.setToolTip("Pick or type a user ID")
        self.model_combo = QComboBox(self)
        self.model_combo.setObjectName("inspectorModel")
        self.model_combo.setToolTip("The model whose top-10 is compared with the base model's")
        for combo, letters in ((self.group_combo, 14), (self.user_combo, 10), (self.model_combo, 16)):
            # long choices (model names) must not widen the tab past a 1280×720 screen (issue 23)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(letters)
        controls.addWidget(QLabel("Show:", self))
        controls.addWidget(self.group_combo)
        controls.addWidget(QLabel("User:", self))
        controls.addWidget(self.user_combo, 1)
        controls.addWidget(QLabel("After:", self))
        controls.addWidget(self.model_combo)
        return controls

    def _lists(self) -> QGridLayout:
        lists = QGridLayout()
        self.before_title = QLabel("<b>Before</b> — base model", self)
        self.after_title = QLabel("<b>After</b>", self)
        self.before_list = QListWidget(self)
        self.before_list.setObjectName("beforeList")
        self.after_list = QListWidget(self)
        self.after_list.setObjectName("afterList")
        self.before_list.setToolTip("Top-10 of the base model, trained on all data including what was forgotten")
        self.after_list.setToolTip("Top-10 of the chosen model after unlearning; arrows show rank changes")
        for w in (self.before_list, self.after_list):
            w.setAlternatingRowColors(True)
            w.setWordWrap(True)
            font = w.font()
            font.setPointSizeF(font.pointSizeF() * 1.15)
            w.setFont(font)
            w.setSpacing(1)
        lists.addWidget(self.before_title, 0, 0)
        lists.addWidget(self.after_title, 0, 1)
        lists.addWidget(self.before_list, 1, 0)
        lists.addWidget(self.after_list, 1, 1)
        return lists

    # -- run --------------------------------------------------------------------------------
    def set_run(self, result, dataset, removed_by_user: dict | None = None) -> None:
        """``dataset`` gives titles (None when the run's dataset is not the one loaded)."""
        self._drop_chosen()  # a new run: the people listed from the last one no longer apply
        self.result = result
        self.dataset = dataset
        self.removed_by_user = removed_by_user or {}
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for name in result.models:
            if name != "base" and name in result.topk:
                self.model_combo.addItem(result.models[name].label, name)
        methods = [self.model_combo.itemData(i) for i in range(self.model_combo.count())]
        preferred = next((m for m in methods if m != "retrain"), methods[0] if methods else None)
        if preferred is not None:
            self.model_combo.setCurrentIndex(self.model_combo.findData(preferred))
        self.model_combo.blockSignals(False)
        self._fill_users()

    def _drop_chosen(self) -> None:
        index = self.group_combo.findData(CHOSEN)
        if index >= 0:
            self.group_combo.blockSignals(True)
            if self.group_combo.currentIndex() == index:
                self.group_combo.setCurrentIndex(0)
            self.group_combo.removeItem(index)
            self.group_combo.blockSignals(False)
        self._chosen = []

    def clear(self, text: str = "") -> None:
        self._drop_chosen()
        self.result = None
        self.before_list.clear()
        self.after_list.clear()
        self.user_combo.clear()
        self.model_combo.clear()
        self.info.setText(text or "Run an experiment (or open one from History) to inspect users.")

    def show_users(self, title: str, users) -> None:
        """List ``users`` (a bar or a map selection of the Who-was-affected tab) as the
        Inspector's "Show:" choice, named by ``title``; the first of them is shown."""
        self._chosen = [int(u) for u in users]
        label = f"{title} ({len(self._chosen):,})"
        index = self.group_combo.findData(CHOSEN)
        if index < 0:
            self.group_combo.addItem(label, CHOSEN)
            index = self.group_combo.count() - 1
        self.group_combo.setItemText(index, label)
        if self.group_combo.currentIndex() == index:
            self._fill_users()
        else:
            self.group_combo.setCurrentIndex(index)

    def _group_users(self, group: str) -> list[int]:
        if group == CHOSEN:
            return list(self._chosen)
        g = self.result.groups if self.result else {}
        if group in ("retain", "similar"):
            return list(g.get("users", {}).get(group, []))
        if group == "forget":
            return list(g.get("forget_users_all") or g.get("users", {}).get("forget", []))
        if group == "outsiders":
            return list(g.get("outsiders", []))
        n = len(next(iter(self.result.topk.values()), [])) if self.result and self.result.topk else 0
        return list(range(n))

    def _raw_id(self, user: int) -> str:
        if self.dataset is not None and 0 <= user < self.dataset.n_users:
            return str(self.dataset.user_ids[user])
        return f"#{user}"

    def _fill_users(self, *_args) -> None:
        if self.result is None:
            return
        group = self.group_combo.currentData()
        self._users = self._group_users(group)
        self.user_combo.blockSignals(True)
        self.user_combo.clear()
        for u in self._users:
            self.user_combo.addItem(f"user {self._raw_id(u)}", u)
        self.user_combo.blockSignals(False)
        if self._users:
            self.user_combo.setCurrentIndex(max(0, self._users.index(self._telling_user())))
        self.refresh()

    def _telling_user(self) -> int:
        """The user whose lists say most: most forgotten items in the base top-10 (first on ties)."""
        base = self.result.topk.get("base", ())
        best, best_score = self._users[0], -1
        for u in self._users[:2000]:
            forgotten = self._forgotten_items(u)
            if not forgotten or u >= len(base):
                continue
            score = len(forgotten & set(base[u]))
            if score > best_score:
                best, best_score = u, score
        return best

    def _typed_user(self) -> None:
        text = self.user_combo.currentText().strip().removeprefix("user ").strip()
        for i in range(self.user_combo.count()):
            if self.user_combo.itemText(i) == f"user {text}":
                self.user_combo.setCurrentIndex(i)
                break
        self.refresh()

    def select_user(self, user: int, group: str | None = None) -> None:
        if group is not None:
            self.group_combo.setCurrentIndex(self.group_combo.findData(group))
        index = self.user_combo.findData(user)
        if index < 0:
            self.group_combo.setCurrentIndex(self.group_combo.findData("all"))
            index = self.user_combo.findData(user)
        self.user_combo.setCurrentIndex(index)
        self.refresh()

    def current_user(self) -> int | None:
        data = self.user_combo.currentData()
        return int(data) if data is not None else None

    # -- lists ---------------------------------------------------------------------------------
    def _title(self, item: int) -> str:
        if self.dataset is not None and 0 <= item < self.dataset.n_items:
            title = self.dataset.item_title(item)
            meta = self.dataset.item_meta
            if meta is not None and "year" in meta:
                year = meta["year"].iloc[item]
                if year == year and year is not None and str(int(year)) not in title:
                    title += f" ({int(year)})"
            return title
        return f"item #{item}"

    def _item_tip(self, item: int) -> str:
        if self.dataset is None or not 0 <= item < self.dataset.n_items:
            return ""
        genres = self.dataset.item_genres()[item]
        return f"item {self.dataset.item_ids[item]}" + (f" · {', '.join(genres)}" if genres else "")

    def _forgotten_items(self, user: int) -> set[int]:
        request = self.result.request if self.result else {}
        if request.get("kind") == "items":
            return set(self.result.groups.get("forget_items", []))
        removed = self.removed_by_user.get(user)
        return set(map(int, removed)) if removed is not None else set()

    def _user_metric(self, model: str, user: int) -> str:
        report = self.result.models.get(model)
        if report is None:
            return ""
        for group in ("forget", "similar", "retain"):
            users = self.result.groups.get("users", {}).get(group, [])
            values = report.per_user.get(group, {}).get("ndcg@10")
            if values and user in users:
                pos = users.index(user)
                if pos < len(values) and values[pos] is not None:
                    return f"{values[pos]:.3f}"
        return ""

    def refresh(self) -> None:
        self.before_list.clear()
        self.after_list.clear()
        user = self.current_user()
        model = self.model_combo.currentData()
        if self.result is None or user is None or model is None:
            if self.result is not None:
                self.info.setText("No user in this group.")
            return
        before = [int(i) for i in self.result.topk.get("base", [[]] * (user + 1))[user]]
        after = [int(i) for i in self.result.topk.get(model, [[]] * (user + 1))[user]]
        forgotten = self._forgotten_items(user)
        shifts = rank_shifts(before, after)
        self.after_title.setText(f"<b>After</b> — {self.result.models[model].label}")
        kind = str(self.result.request.get("kind", ""))
        self.legend.setText(legend_text(kind, bool(forgotten)))
        for rank, item in enumerate(before, start=1):
            text = f"{rank:>2}. {self._title(item)}"
            if item in forgotten:
                text += "   ✕ removed"
            entry = QListWidgetItem(text)
            entry.setToolTip(self._item_tip(item))
            if item not in after:
                font = QFont(entry.font())
                font.setStrikeOut(True)
                entry.setFont(font)
                entry.setText(text + "   (gone)")
                entry.setToolTip(self._item_tip(item) + " — no longer in the top-10 after unlearning")
            self._decorate(entry, item in forgotten)
            self.before_list.addItem(entry)
        for rank, item in enumerate(after, start=1):
            shift = shifts.get(item)
            if shift is None:
                mark, colour, tip = "new", UP, "not in the base model's top-10"
            elif shift > 0:
                mark, colour, tip = f"▲{shift}", UP, f"moved up {shift} place(s)"
            elif shift < 0:
                mark, colour, tip = f"▼{-shift}", DOWN, f"moved down {-shift} place(s)"
            else:
                mark, colour, tip = "=", None, "same rank"
            text = f"{rank:>2}. {self._title(item)}   {mark}"
            if item in forgotten:
                text, tip = self._removed_marker(user, model, item, text, tip)
            entry = QListWidgetItem(text)
            entry.setToolTip(f"{self._item_tip(item)} — {tip}")
            if colour and item not in forgotten:
                entry.setForeground(QBrush(QColor(colour)))
            self._decorate(entry, item in forgotten)
            self.after_list.addItem(entry)
        self.info.setText(self._describe(user, model, before, after, forgotten))

    def _retrain_list(self, user: int) -> set[int]:
        lists = self.result.topk.get("retrain", ())
        return {int(i) for i in lists[user]} if user < len(lists) else set()

    def _removed_marker(self, user: int, model: str, item: int, text: str, tip: str) -> tuple[str, str]:
        suffix, why = removed_marker(model, item in self._retrain_list(user))
        return f"{text}   {suffix}", f"{tip}; {why}"

    @staticmethod
    def _decorate(entry: QListWidgetItem, forgotten: bool) -> None:
        if forgotten:
            entry.setBackground(QBrush(FORGOTTEN_BG))
            entry.setForeground(QBrush(FORGOTTEN_FG))
            font = QFont(entry.font())
            font.setBold(True)
            entry.setFont(font)

    def _describe(self, user: int, model: str, before, after, forgotten: set[int]) -> str:
        parts = [f"<b>User {self._raw_id(user)}</b>"]
        if self.dataset is not None and self.dataset.user_meta is not None and user < self.dataset.n_users:
            row = self.dataset.user_meta.iloc[user]
            profile = ", ".join(
                f"{str(k).replace('_', ' ')} {', '.join(map(str, v)) if isinstance(v, (list, tuple)) else v}"
                for k, v in row.items()
                if isinstance(v, (list, tuple)) or (v == v and v is not None)
            )
            if profile:
                parts.append(f"({profile})")
        groups = [name for name, users in self.result.groups.get("users", {}).items() if user in users]
        if user in set(self.result.groups.get("outsiders", [])):
            groups.append("outsider")
        if groups:
            parts.append("— in group " + ", ".join(groups))
        removed = self.removed_by_user.get(user)
        if removed is not None and len(removed):
            parts.append(f"· {len(removed)} of their training interactions were forgotten")
        kept = len(forgotten & set(before))
        still = len(forgotten & set(after))
        if forgotten:
            parts.append(f"· removed items in the top-10: {kept} before, {still} after")
            if still and model != "retrain":
                popular = len(forgotten & set(after) & self._retrain_list(user))
                parts.append(f"({popular} of them the retrained model recommends too: not memories)")
        overlap = len(set(before) & set(after))
        parts.append(f"· {overlap} of 10 recommendations unchanged")
        b, a = self._user_metric("base", user), self._user_metric(model, user)
        if b and a:
            parts.append(f"· this user's NDCG@10: {b} before → {a} after")
        parts.append(self._agreement_text(user, model))
        return " ".join(p for p in parts if p)

    def _agreement_text(self, user: int, model: str) -> str:
        """How much of this user's list is what retraining recommends (base as the reference)."""
        found = overlap_with_retrain(self.result.topk, user, (model, "base"))
        if not found:
            return ""
        models = self.result.models
        texts = [
            f"{models[m].label if m in models else m}{' (reference)' if m == 'base' else ''}: "
            f"Jaccard {j:.2f}, RBO {r:.2f}"
            for m, (j, r) in found.items()
        ]
        return "<br>Top-10 overlap with the retrained model's list: " + "; ".join(texts)

    def titles(self, which: str) -> list[str]:
        widget = self.before_list if which == "before" else self.after_list
        return [widget.item(i).text() for i in range(widget.count())]
