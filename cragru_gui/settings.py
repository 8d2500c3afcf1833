"""Persistent window settings: geometry, last and recent datasets, last parameters.

An INI file in the app's data folder (``$CRAGRU_HOME`` in tests, so they never touch a
person's own settings). Values are plain JSON text, never pickles.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from core.paths import data_dir

MAX_RECENT = 8


class Settings:
    def __init__(self, path: str | None = None) -> None:
        self.path = path or str(data_dir() / "settings.ini")
        self._qs = QSettings(self.path, QSettings.Format.IniFormat)

    # -- raw JSON values ----------------------------------------------------------------
    def get_json(self, key: str, default: Any = None) -> Any:
        raw = self._qs.value(key)
        if raw in (None, ""):
            return default
        try:
            return json.loads(str(raw))
        except (TypeError, ValueError):
            return default

    def set_json(self, key: str, value: Any) -> None:
        self._qs.setValue(key, json.dumps(value))

    def sync(self) -> None:
        self._qs.sync()

    def clear(self) -> None:
        self._qs.clear()
        self._qs.sync()

    # -- window ---------------------------------------------------------------------------
    def geometry(self) -> QByteArray | None:
        value = self._qs.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def save_geometry(self, geometry: QByteArray) -> None:
        self._qs.setValue("window/geometry", geometry)

    # -- datasets ----------------------------------------------------------------------------
    def last_dataset(self) -> dict | None:
        value = self.get_json("data/last")
        return value if isinstance(value, dict) and value.get("path") else None

    def recent_datasets(self) -> list[dict]:
        value = self.get_json("data/recent", [])
        return [v for v in value if isinstance(v, dict) and v.get("path")] if isinstance(value, list) else []

    def remember_dataset(self, data: dict) -> None:
        """``data`` is a :class:`core.config.DataConfig` as a dict."""
        self.set_json("data/last", data)
        recent = [r for r in self.recent_datasets() if r.get("path") != data.get("path")]
        self.set_json("data/recent", [data, *recent][:MAX_RECENT])

    # -- parameters -----------------------------------------------------------------------------
    def parameters(self) -> dict:
        value = self.get_json("run/parameters", {})
        return value if isinstance(value, dict) else {}

    def save_parameters(self, values: dict) -> None:
        self.set_json("run/parameters", values)
