"""Test set-up: offscreen Qt, and history/cache folders that never touch the user's own."""

import os
import tempfile

# Qt aborts the whole process on a machine without a display unless this is set first.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
_session_dir = tempfile.mkdtemp(prefix="cragru-tests-")
os.environ["CRAGRU_HOME"] = os.path.join(_session_dir, "home")
os.environ["CRAGRU_CACHE_DIR"] = os.path.join(_session_dir, "cache")

import pytest  # noqa: E402


@pytest.fixture
def isolated_home(tmp_path, monkeypatch):
    """A fresh history and cache folder for one test."""
    monkeypatch.setenv("CRAGRU_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CRAGRU_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture
def bundled_llm():
    """Skip (with the reason) where the bundled SmolLM2 GGUF or the gguf reader is missing."""
    pytest.importorskip("gguf")
    from core.errors import ConfigError
    from core.llm.local import bundled_gguf_path

    try:
        return bundled_gguf_path()
    except ConfigError as exc:
        pytest.skip(str(exc))
