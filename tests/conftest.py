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


@pytest.fixture
def hand_built_result():
    """A run built by hand (no training): base, retrain, a method close to retrain ("close")
    and one far from it ("far"), so verdicts and colours are known in advance."""
    from core.result import ModelReport, RunResult

    def report(name, label, retain, forget, similar, recall, mia, time_s, speedup):
        groups = {g: {"hit@10": 2 * v, "ndcg@10": v} for g, v in
                  (("retain", retain), ("forget", forget), ("similar", similar))}
        return ModelReport(name, label, groups, {"forgotten_recall@10": recall}, time_s=time_s,
                           speedup_vs_retrain=speedup, mia_auc=mia, notes=[f"{name} note"] if name == "far" else [])

    models = {
        "base": report("base", "Base model", 0.30, 0.30, 0.30, 0.40, 0.90, 10.0, None),
        "retrain": report("retrain", "Retrain", 0.29, 0.10, 0.28, 0.10, 0.55, 8.0, 1.0),
        "close": report("close", "Close method", 0.29, 0.11, 0.28, 0.11, 0.56, 0.5, 16.0),
        "far": report("far", "Far method", 0.15, 0.30, 0.14, 0.40, 0.90, 20.0, 0.4),
    }
    return RunResult(
        run_id="handmade", config={"mia": True}, dataset={"name": "hand-built", "n_users": 10},
        split={"mode": "random"}, request={"description": "users: ids 1,2", "n_removed_rows": 12},
        groups={"n_retain": 6, "n_forget": 2, "n_similar": 2, "similar_rule": "top-10 neighbours"},
        models=models, environment={"device": "cpu"}, timings={}, started_at=1.0e9,
    )
