"""core.memory_reuse: glibc keeps freed tensor memory; the user's own malloc settings win."""

from __future__ import annotations

import sys

import pytest

from core import memory_reuse


def test_user_settings_win(monkeypatch):
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert memory_reuse._apply() is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_sets_thresholds_once(monkeypatch):
    for name in memory_reuse.USER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(memory_reuse, "_done", None)
    first = memory_reuse.keep_freed_memory()
    assert isinstance(first, bool)
    assert memory_reuse.keep_freed_memory() is first  # once per process
